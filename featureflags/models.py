"""The source of truth. Evaluation never happens here: see ``featureflags.engine``;
every write goes through ``featureflags.services``."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .engine.constraints import OPERATORS


class FlagKind(models.TextChoices):
    RELEASE = "release", _("Release")
    EXPERIMENT = "experiment", _("Experiment")
    OPS = "ops", _("Ops")
    PERMISSION = "permission", _("Permission")


class Bucketing(models.TextChoices):
    MURMUR3 = "murmur3", _("murmur3 (Unleash-compatible)")
    CRC32 = "crc32", _("crc32 (hanoi-compatible)")
    CRC32_INV = "crc32_inv", _("crc32, hanoi 0.0.4's inverted percentage (legacy cohorts)")


class ValueType(models.TextChoices):
    """The type of a flag's variant values (``spec/evaluation.md``)."""

    BOOLEAN = "boolean", _("Boolean")
    STRING = "string", _("String")
    NUMBER = "number", _("Number")
    JSON = "json", _("JSON")


class LiveFlagManager(models.Manager):
    """``Flag.objects``: flags not archived. Archived ones are in ``Flag.all_objects``."""

    def get_queryset(self):
        return super().get_queryset().filter(archived_at__isnull=True)


class Flag(models.Model):
    key = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=False, help_text=_("The global switch; off wins over everything."))
    percentage = models.PositiveSmallIntegerField(default=100)
    stickiness = models.CharField(max_length=100, default="default")
    salt = models.CharField(max_length=100, blank=True, help_text=_("Defaults to the key."))
    bucketing = models.CharField(max_length=10, choices=Bucketing.choices, default=Bucketing.MURMUR3)
    value_type = models.CharField(
        max_length=10,
        choices=ValueType.choices,
        default=ValueType.BOOLEAN,
        help_text=_("The type of the variants' values; a boolean flag needs none."),
    )
    environments = models.JSONField(default=list, blank=True)
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    # Guardrails: tripping one turns the switch off.
    error_threshold = models.PositiveIntegerField(null=True, blank=True)
    error_window_seconds = models.PositiveIntegerField(default=300)
    performance_baseline = models.FloatField(null=True, blank=True, help_text=_("Seconds."))
    performance_threshold = models.PositiveIntegerField(null=True, blank=True)
    # Metadata for operators.
    description = models.TextField(blank=True)
    owner = models.CharField(max_length=200, blank=True)
    tags = models.JSONField(default=list, blank=True)
    kind = models.CharField(max_length=20, choices=FlagKind.choices, default=FlagKind.RELEASE)
    expected_lifetime_days = models.PositiveIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Shown to browsers by the client endpoint (opt-in). Flag-level until version 2 of the
    # evaluation contract makes it per environment.
    client_side = models.BooleanField(
        default=False, help_text=_("Exposed to browsers through the client endpoint and featureflags.js.")
    )
    # Deleting archives: the flag (with its user lists) leaves evaluation and every list, and can be
    # restored until it is purged (FEATUREFLAGS["PURGE_ARCHIVED_AFTER_DAYS"], or `flags purge`).
    archived_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    archived_by = models.CharField(max_length=200, blank=True, editable=False)
    # Optimistic concurrency: a write names the version it read.
    version = models.PositiveIntegerField(default=1)
    # The mirror version of this flag's last change, and of its lists' last change.
    mirror_version = models.BigIntegerField(default=0, db_index=True)
    users_version = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    all_objects = models.Manager()  # archived flags too
    objects = LiveFlagManager()

    class Meta:
        ordering = ["key"]
        permissions = [("kill_flag", "Can use the kill switch")]
        default_manager_name = "objects"  # the admin, forms and dumpdata see live flags
        base_manager_name = "all_objects"  # related lookups (audit entries, prerequisites) see archived flags

    def __str__(self) -> str:
        return self.key


class FlagUser(models.Model):
    """One id of a flag's user list (or its excluded list): millions fit, one row each."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="user_entries")
    user_id = models.CharField(max_length=255)
    excluded = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["flag", "excluded", "user_id"], name="ff_unique_flag_user")]

    def __str__(self) -> str:
        return self.user_id


class Rule(models.Model):
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="rules")
    pattern = models.CharField(max_length=1000, help_text=_("RE2 syntax, searched in the user id."))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.pattern


class Constraint(models.Model):
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="constraints")
    attribute = models.CharField(max_length=100)
    operator = models.CharField(max_length=20, choices=[(o, o) for o in sorted(OPERATORS)])
    values = models.JSONField(default=list, blank=True)
    inverted = models.BooleanField(default=False)
    case_insensitive = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.attribute} {self.operator} {self.values}"


class Variant(models.Model):
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=100)
    weight = models.PositiveIntegerField(default=1)
    # Of the flag's value_type; None (SQL NULL) when it has none (a boolean flag may omit it).
    value = models.JSONField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["flag", "name"], name="ff_unique_variant")]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight})"


class PinnedVariant(models.Model):
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="pinned_variants")
    user_id = models.CharField(max_length=255)
    variant = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["flag", "user_id"], name="ff_unique_pin")]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.variant}"


class Prerequisite(models.Model):
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="prerequisites")
    parent = models.ForeignKey(Flag, on_delete=models.PROTECT, related_name="dependents")
    variant = models.CharField(max_length=100, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.parent.key}{':' + self.variant if self.variant else ''}"


class Source(models.TextChoices):
    ADMIN = "admin", _("Django admin")
    DASHBOARD = "dashboard", _("Dashboard")
    API = "api", _("REST API")
    CLI = "cli", _("Command line")
    IMPORT = "import", _("Import")
    GUARDRAIL = "guardrail", _("Guardrail")
    SCHEDULE = "schedule", _("Schedule")
    HANOI = "hanoi", _("hanoi API")
    CODE = "code", _("Python code")
    SYSTEM = "system", _("System")


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The audit log is append-only.")

    def delete(self):
        raise TypeError("The audit log is append-only.")


class AuditEntry(models.Model):
    """Who changed what, when, from where; before and after as JSON. Append-only."""

    at = models.DateTimeField(default=timezone.now, db_index=True)  # set before the insert: it is hashed
    actor = models.CharField(max_length=200)
    source = models.CharField(max_length=20, choices=Source.choices)
    source_detail = models.CharField(max_length=500, blank=True, help_text=_("e.g. the imported file."))
    action = models.CharField(max_length=50)
    flag_key = models.CharField(max_length=100, db_index=True)
    flag = models.ForeignKey(Flag, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True)
    # The hash chain (featureflags.audit): each entry carries the hash of the one before it.
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    entry_hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.flag_key}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("The audit log is append-only.")
        from .audit import chained_insert

        chained_insert(self, lambda: super(AuditEntry, self).save(*args, **kwargs))

    def delete(self, *args, **kwargs):
        raise TypeError("The audit log is append-only.")


class MirrorState(models.Model):
    """One row: the head of the change log, raised by every write in its transaction.

    ``deployment`` names this database among every deployment sharing a Redis server
    (random, made when the row is); ``token`` is the random mark of the last change,
    so a database restored to an older state is recognised by its history, not its number.
    """

    version = models.BigIntegerField(default=0)
    token = models.CharField(max_length=32, default="", blank=True)
    deployment = models.CharField(max_length=32, default="", blank=True)

    def __str__(self) -> str:
        return f"version {self.version}"


class ChangeLog(models.Model):
    """One row per change, written in the change's own transaction (the outbox)."""

    version = models.BigIntegerField(primary_key=True)
    token = models.CharField(max_length=32)
    keys = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"change {self.version}: {', '.join(self.keys)[:80]}"


class RampStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPLIED = "applied", _("Applied")
    SUPERSEDED = "superseded", _("Superseded by a later step")
    CANCELLED = "cancelled", _("Cancelled")


class RampStep(models.Model):
    """One step of a planned ramp: at ``at``, set the flag's percentage (``manage.py flags tick``)."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="ramp_steps")
    at = models.DateTimeField(db_index=True)
    percentage = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=RampStatus.choices, default=RampStatus.PENDING, db_index=True)
    planned_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["flag", "at", "id"]

    def __str__(self) -> str:
        return f"{self.flag.key}: {self.percentage} % at {self.at:%Y-%m-%d %H:%M} ({self.status})"
