"""Feedback in the admin: read and delete (spam), never edited."""

from django.contrib import admin

from .models import Feedback


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("created_at", "flag_key", "variant", "rating", "unit", "text")
    list_filter = ("rating", "variant")
    search_fields = ("flag_key", "unit", "text")
    readonly_fields = ("flag_key", "unit", "variant", "enabled", "rating", "text", "created_at")

    def has_add_permission(self, request) -> bool:
        return False
