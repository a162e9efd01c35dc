"""Tokens in the admin: the secret is shown once, when the token is created."""

from django.contrib import admin, messages

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "scope", "hint", "revoked", "created_by", "created_at", "last_used_at")
    list_filter = ("scope", "revoked")
    search_fields = ("name",)
    readonly_fields = ("hint", "created_by", "created_at", "last_used_at")
    fields = ("name", "scope", "revoked", "hint", "created_by", "created_at", "last_used_at")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, secret = ApiToken.objects.issue(obj.name, obj.scope, created_by=request.user.get_username())
        obj.pk, obj.digest, obj.hint = token.pk, token.digest, token.hint
        messages.warning(request, f"The token {obj.name!r} is {secret} — copy it now: it is not shown again.")
