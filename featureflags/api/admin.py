"""Tokens in the admin: the secret is shown once, on the page that created it (never in a cookie)."""

from django.contrib import admin
from django.template.response import TemplateResponse

from featureflags.models import Source

from .models import ApiToken, audit_token, token_state

_SECRET_ATTR = "_featureflags_new_token_secret"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "scope", "hint", "revoked", "created_by", "created_at", "last_used_at")
    list_filter = ("scope", "revoked")
    search_fields = ("name",)
    readonly_fields = ("hint", "created_by", "created_at", "last_used_at")
    fields = ("name", "scope", "revoked", "hint", "created_by", "created_at", "last_used_at")

    def save_model(self, request, obj, form, change):
        actor = request.user.get_username()
        if change:
            before = token_state(ApiToken.objects.get(pk=obj.pk))
            super().save_model(request, obj, form, change)
            after = token_state(obj)
            if before != after:
                action = "token_revoke" if after["revoked"] and not before["revoked"] else "token_update"
                audit_token(obj, action, actor, Source.ADMIN, before=before, after=after)
            return
        token, secret = ApiToken.objects.issue(obj.name, obj.scope, created_by=actor, source=Source.ADMIN)
        obj.pk, obj.digest, obj.hint = token.pk, token.digest, token.hint
        setattr(request, _SECRET_ATTR, secret)

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, _SECRET_ATTR, None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Token {obj.name} created",
            "token": obj,
            "secret": secret,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "featureflags_api/token_created.html", context)
        response["Cache-Control"] = "no-store"  # the only place the secret ever appears
        return response

    def delete_model(self, request, obj):
        audit_token(obj, "token_delete", request.user.get_username(), Source.ADMIN, before=token_state(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for token in queryset:
            self.delete_model(request, token)
