"""The Django admin for flags: every write goes through ``featureflags.services`` (source "admin").

The change form and its inlines are validated by Django as usual; then, still inside
validation, the whole proposed state is handed to the service layer, whose errors
are put back on the fields and inline rows they name, so a refused save shows the
form again with its messages and nothing is written. User lists are never an inline:
they hold up to a million ids, so they get their own paginated, searchable list.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseBadRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import permissions as rules
from . import services
from .editing import STATE_CHOICES, filter_by_state, kept_rows, place_errors, rows_state, state_of
from .input_checks import hostile_params
from .models import AuditEntry, Constraint, Flag, FlagUser, PinnedVariant, Prerequisite, Rule, Source, Variant
from .serialization import SCALAR_FIELDS, user_count

SOURCE = Source.ADMIN
STATE_COLOURS = {"off": "#a40e26", "partial": "#7d4e00", "on": "#116329"}
# Lists and mappings are short: a two-line JSON box, not the default large textarea.
JSON_WIDGETS = {models.JSONField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}}
_FORM_ATTR = "_featureflags_admin_form"


def _actor(request) -> str:
    return request.user.get_username()


class RefuseHostileInput:
    """A NUL byte in a filter, a search or a URL part is a clear 400, not a database error (a 500)."""

    def changelist_view(self, request, extra_context=None):
        return self._refuse(request) or super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        refused = self._refuse(request, {"object_id": object_id} if object_id else None)
        return refused or super().changeform_view(request, object_id, form_url, extra_context)

    def _refuse(self, request, url_kwargs=None):
        problems = hostile_params(request, url_kwargs)
        if not problems:
            return None
        text = "; ".join(f"{name}: {message}" for name, message in problems.items())
        return HttpResponseBadRequest(f"Refused: {text}", content_type="text/plain; charset=utf-8")


# -- list filters --------------------------------------------------------------------------


class ArchivedFilter(admin.SimpleListFilter):
    """Deleted flags are archived: hidden, restorable (action) until purged."""

    title = _("archived")
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("yes", _("Archived (deleted, restorable)"))]

    def queryset(self, request, queryset):
        return queryset.filter(archived_at__isnull=self.value() != "yes")


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [(value, _(words)) for value, words in STATE_CHOICES]

    def queryset(self, request, queryset):
        return filter_by_state(queryset, self.value())


class _JsonListFilter(admin.SimpleListFilter):
    """Values of a JSON list field; filtered in Python so it works on every database."""

    field = ""

    def lookups(self, request, model_admin):
        values = {v for items in Flag.objects.values_list(self.field, flat=True) for v in (items or [])}
        return [(v, v) for v in sorted(values)]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        pks = [pk for pk, items in queryset.values_list("pk", self.field) if value in (items or [])]
        return queryset.filter(pk__in=pks)


class TagFilter(_JsonListFilter):
    title = _("tag")
    parameter_name = "tag"
    field = "tags"


class EnvironmentFilter(_JsonListFilter):
    title = _("environment")
    parameter_name = "environment"
    field = "environments"


# -- inlines ----------------------------------------------------------------------------------


class FlagInlineFormSet(BaseInlineFormSet):
    """An inline of the flag form. The last inline's formset, once every part of the page
    validated, hands the whole proposed flag to the services (see ``_ServiceWrite``)."""

    writer: _ServiceWrite | None = None  # set on the per-request formset classes, on POST
    writes = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.writer is not None:
            self.writer.formsets.append(self)

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if valid and self.writes and self.writer is not None:
            return self.writer.write()
        return valid


class _FlagPartInline(admin.TabularInline):
    """Rows that are part of a flag: editing them is editing the flag (its permissions, not the row model's)."""

    extra = 0
    formset = FlagInlineFormSet

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("featureflags.view_flag") or self.has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("featureflags.change_flag") or (
            obj is None and request.user.has_perm("featureflags.add_flag")
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)


class _OrderedInline(_FlagPartInline):
    formfield_overrides = JSON_WIDGETS
    exclude = ("position",)  # the row order is the order


class RuleInline(_OrderedInline):
    model = Rule


class VariantInline(_OrderedInline):
    model = Variant


class ConstraintInline(_OrderedInline):
    model = Constraint


class PrerequisiteInline(_OrderedInline):
    model = Prerequisite
    fk_name = "flag"
    autocomplete_fields = ("parent",)


class PinnedVariantInline(_FlagPartInline):
    model = PinnedVariant


INLINE_FIELDS = {
    Rule: "rules",
    Variant: "variants",
    Constraint: "constraints",
    Prerequisite: "prerequisites",
    PinnedVariant: "pinned_variants",
}


class _ServiceWrite:
    """One POST of the flag form: the form and every inline formset, written in one service call.

    It runs inside validation (from the last inline's ``is_valid``, after the form and the other
    inlines validated), so a refused write shows the page again with each message where it belongs.
    """

    def __init__(self, request, obj: Flag | None) -> None:
        self.request, self.obj = request, obj
        self.formsets: list[FlagInlineFormSet] = []
        self.result: bool | None = None  # written once, however often is_valid is asked
        self.saved: Flag | None = None

    def write(self) -> bool:
        if self.result is None:
            self.result = self._write()
        return self.result

    def _write(self) -> bool:
        form = getattr(self.request, _FORM_ATTR, None)
        if form is None or not form.is_valid() or not all(fs.is_valid() for fs in self.formsets if not fs.writes):
            return True  # Django shows those errors; nothing is written
        by_field = {INLINE_FIELDS[fs.model]: fs for fs in self.formsets if fs.model in INLINE_FIELDS}
        state = {name: form.cleaned_data[name] for name in SCALAR_FIELDS if name in form.cleaned_data}
        state.update({field: rows_state(field, kept_rows(fs)) for field, fs in by_field.items()})
        change = self.obj is not None and self.obj.pk is not None
        try:
            if change:
                self.saved = services.update_flag(
                    self.obj.key,
                    state,
                    expected_version=form.cleaned_data["expected_version"],
                    actor=_actor(self.request),
                    source=SOURCE,
                )
            else:
                self.saved = services.create_flag(
                    form.cleaned_data["key"], actor=_actor(self.request), source=SOURCE, **state
                )
        except services.FlagConflict as exc:
            changed = sorted(k for k, v in exc.current.items() if k != "version" and form.initial.get(k, v) != v)
            form.add_error(
                None,
                f"{exc} Changed meanwhile: {', '.join(changed) or 'related rows'}. "
                "Reload the page to see the current values; nothing was saved.",
            )
            return False
        except ValidationError as exc:
            for section, messages in place_errors(exc, form, by_field).items():
                form.add_error(None, [f"{section}: {m}" if section else m for m in messages])
            return False
        return True


# -- flags ----------------------------------------------------------------------------------------


class FlagAdminForm(forms.ModelForm):
    expected_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Flag
        fields = ("key", *SCALAR_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version

    def clean_description(self) -> str:
        # Browsers send a textarea's line breaks as CRLF: keep the stored text unchanged.
        return self.cleaned_data["description"].replace("\r\n", "\n")

    def validate_unique(self) -> None:
        pass  # the service layer checks the key, with its own message


@admin.register(Flag)
class FlagAdmin(RefuseHostileInput, admin.ModelAdmin):
    form = FlagAdminForm
    formfield_overrides = JSON_WIDGETS
    list_display = ("key", "state", "percentage", "owner", "kind", "updated_at")
    list_display_links = ("key",)
    list_filter = (StateFilter, "kind", "owner", TagFilter, EnvironmentFilter, ArchivedFilter)
    search_fields = ("key", "description", "owner")
    list_per_page = 50
    inlines = (RuleInline, VariantInline, ConstraintInline, PrerequisiteInline, PinnedVariantInline)
    readonly_fields = ("user_lists", "version")
    actions = ("switch_on", "kill_switch", "restore_archived", "purge_archived")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "key",
                    "enabled",
                    "percentage",
                    "description",
                    "owner",
                    "kind",
                    "tags",
                    "client_side",
                    "expected_version",
                )
            },
        ),
        (
            _("Targeting"),
            {
                "fields": (
                    "user_lists",
                    "environments",
                    "start_at",
                    "end_at",
                    "stickiness",
                    "salt",
                    "bucketing",
                    "value_type",
                )
            },
        ),
        (
            _("Guardrails"),
            {
                "fields": (
                    "error_threshold",
                    "error_window_seconds",
                    "performance_baseline",
                    "performance_threshold",
                )
            },
        ),
        (_("More"), {"classes": ("collapse",), "fields": ("expected_lifetime_days", "metadata", "version")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (("key",) if obj is not None else ())

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)

        class Captured(form_class):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                setattr(request, _FORM_ATTR, self)

        return Captured

    def get_formsets_with_inlines(self, request, obj=None):
        pairs = list(super().get_formsets_with_inlines(request, obj))
        if request.method == "POST" and pairs:
            # The formset classes are made for this request, so their attributes are this POST's.
            writer = _ServiceWrite(request, obj)
            request._featureflags_writer = writer
            for formset_class, _inline in pairs:
                formset_class.writer = writer
            pairs[-1][0].writes = True
        yield from pairs

    def save_model(self, request, obj, form, change):
        """Already written by the service layer during validation; only point ``obj`` at it."""
        writer = self._writer(request)
        if writer is not None and writer.saved is not None:
            obj.pk = writer.saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # the inlines were part of the service write

    def construct_change_message(self, request, form, formsets, add=False):
        # The inline formsets were not saved by the admin; the audit log has the details.
        return super().construct_change_message(request, form, [], add)

    def _writer(self, request) -> _ServiceWrite | None:
        return getattr(request, "_featureflags_writer", None)

    def delete_model(self, request, obj):
        services.delete_flag(obj.key, actor=_actor(request), source=SOURCE)

    def delete_queryset(self, request, queryset):
        for flag in queryset:
            services.delete_flag(flag.key, actor=_actor(request), source=SOURCE)

    def get_queryset(self, request):
        # The list may show archived flags (ArchivedFilter); every other page sees live flags only.
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "featureflags_flag_changelist":
            return Flag.all_objects.all()
        return super().get_queryset(request)

    def has_add_permission(self, request) -> bool:
        return rules.allowed(request.user, "create")

    def has_delete_permission(self, request, obj=None) -> bool:
        return rules.allowed(request.user, "delete")

    def has_kill_permission(self, request) -> bool:
        return rules.allowed(request.user, "kill")

    def get_deleted_objects(self, objs, request):
        # Deleting archives: nothing else goes, and the flag can be restored until it is purged.
        listed = [f"{flag.key} (archived with its user lists; restorable until purged)" for flag in objs]
        perms_needed = set() if self.has_delete_permission(request) else {"flag"}
        return listed, {"flags": len(listed)}, perms_needed, []

    @admin.action(description=_("Restore the selected archived flags (switched off)"), permissions=["delete"])
    def restore_archived(self, request, queryset: QuerySet[Flag]) -> None:
        self._each_archived(request, queryset, services.restore_flag, "Restored", messages.SUCCESS)

    @admin.action(
        description=_("Purge the selected archived flags and their user lists for good"), permissions=["delete"]
    )
    def purge_archived(self, request, queryset: QuerySet[Flag]) -> None:
        self._each_archived(request, queryset, services.purge_flag, "Purged", messages.WARNING)

    def _each_archived(self, request, queryset: QuerySet[Flag], change, done_word: str, level: int) -> None:
        """Apply ``change`` to each selected archived flag; a refusal is reported, never a 500."""
        keys = list(queryset.filter(archived_at__isnull=False).values_list("key", flat=True))
        done, refused = [], []
        for key in keys:
            try:
                change(key, actor=_actor(request), source=SOURCE)
                done.append(key)
            except ValidationError as exc:
                refused.extend(exc.messages)
            except services.FlagNotFound:  # restored or purged by someone else meanwhile
                refused.append(f"{key}: no longer archived.")
        self.message_user(request, f"{done_word}: {', '.join(done) or 'none (select archived flags)'}.", level)
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.display(description=_("state"), ordering="enabled")
    def state(self, flag: Flag) -> str:
        name, words = state_of(flag)
        return format_html('<strong style="color:{}">● {}</strong>', STATE_COLOURS[name], words)

    @admin.display(description=_("user lists"))
    def user_lists(self, flag: Flag) -> str:
        if flag.pk is None:
            return "—"
        listing = reverse("admin:featureflags_flaguser_changelist")
        html = format_html(
            '<a href="{}?flag={}">{} users</a> · <a href="{}?flag={}&excluded__exact=1">{} excluded</a>',
            listing,
            flag.key,
            user_count(flag),
            listing,
            flag.key,
            user_count(flag, excluded=True),
        )
        try:  # the dashboard app is optional
            dashboard = reverse("featureflags_dashboard:users", args=[flag.key])
        except NoReverseMatch:
            return html
        return format_html('{} · <a href="{}">edit, upload or download in the dashboard</a>', html, dashboard)

    @admin.action(description=_("Switch on the selected flags"), permissions=["change"])
    def switch_on(self, request, queryset: QuerySet[Flag]) -> None:
        done = [f.key for f in queryset.filter(archived_at__isnull=True) if not f.enabled]
        for key in done:
            services.set_enabled(key, True, actor=_actor(request), source=SOURCE)
        self.message_user(request, f"Switched on: {', '.join(done) or 'none (all were on)'}.", messages.SUCCESS)

    @admin.action(description=_("Kill switch: turn the selected flags OFF"), permissions=["kill"])
    def kill_switch(self, request, queryset: QuerySet[Flag]) -> None:
        done = [f.key for f in queryset.filter(archived_at__isnull=True) if f.enabled]
        for key in done:
            services.kill(key, actor=_actor(request), source=SOURCE)
        self.message_user(request, f"Killed: {', '.join(done) or 'none (all were off)'}.", messages.WARNING)


# -- user lists: paginated, never loaded whole -------------------------------------------------


class FlagKeyFilter(admin.SimpleListFilter):
    """``?flag=<key>``; offers only the chosen flag, so a million-flag table is never listed."""

    title = _("flag")
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, value)] if value else []

    def queryset(self, request, queryset):
        return queryset.filter(flag__key=self.value()) if self.value() else queryset


@admin.register(FlagUser)
class FlagUserAdmin(RefuseHostileInput, admin.ModelAdmin):
    list_display = ("user_id", "flag", "excluded")
    list_filter = (FlagKeyFilter, "excluded")
    search_fields = ("user_id",)
    list_select_related = ("flag",)
    list_per_page = 100
    show_full_result_count = False  # no COUNT(*) over every list of every flag
    ordering = ("flag", "user_id")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(flag__archived_at__isnull=True)  # archived: kept, not edited

    def has_add_permission(self, request) -> bool:
        return False  # ids are added in the dashboard (upload, paste) through the services

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return rules.allowed(request.user, "change")  # removing ids edits the flag

    def delete_model(self, request, obj):
        services.remove_users(obj.flag.key, [obj.user_id], excluded=obj.excluded, actor=_actor(request), source=SOURCE)

    def delete_queryset(self, request, queryset):
        groups: dict[tuple[str, bool], list[str]] = {}
        for key, excluded, user_id in queryset.values_list("flag__key", "excluded", "user_id"):
            groups.setdefault((key, excluded), []).append(user_id)
        for (key, excluded), ids in groups.items():
            services.remove_users(key, ids, excluded=excluded, actor=_actor(request), source=SOURCE)


@admin.register(AuditEntry)
class AuditEntryAdmin(RefuseHostileInput, admin.ModelAdmin):
    """The audit log, read-only: it is append-only."""

    list_display = ("at", "flag_key", "action", "actor", "source")
    list_filter = ("source", "action")
    search_fields = ("flag_key", "actor", "note")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
