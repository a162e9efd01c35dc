"""Request and response shapes, for validation of plain input and for the OpenAPI schema.

The flag's own rules (percentages, regexes, constraint operators, prerequisites)
are checked by ``featureflags.services``, which names the bad field.
"""

from __future__ import annotations

from rest_framework import serializers

from featureflags.models import Bucketing, FlagKind, ValueType
from featureflags.services import MAX_INT


class ConstraintSerializer(serializers.Serializer):
    attribute = serializers.CharField(max_length=100)
    operator = serializers.CharField(max_length=20)
    values = serializers.ListField(child=serializers.CharField(allow_blank=True), default=list)
    inverted = serializers.BooleanField(default=False)
    case_insensitive = serializers.BooleanField(default=False)


class VariantSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    weight = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False)
    value = serializers.JSONField(
        required=False, allow_null=True, help_text="Of the flag's value_type; may be omitted for a boolean flag."
    )


class PrerequisiteSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=100)
    variant = serializers.CharField(max_length=100, required=False)


class FlagFieldsSerializer(serializers.Serializer):
    """Every editable field of a flag; all optional on a write."""

    enabled = serializers.BooleanField(required=False)
    percentage = serializers.IntegerField(min_value=0, max_value=100, required=False)
    stickiness = serializers.CharField(max_length=100, required=False)
    salt = serializers.CharField(max_length=100, required=False, allow_blank=True)
    bucketing = serializers.ChoiceField(choices=Bucketing.choices, required=False)
    value_type = serializers.ChoiceField(choices=ValueType.choices, required=False)
    environments = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    start_at = serializers.DateTimeField(required=False, allow_null=True)
    end_at = serializers.DateTimeField(required=False, allow_null=True)
    rules = serializers.ListField(child=serializers.CharField(max_length=1000), required=False)
    constraints = ConstraintSerializer(many=True, required=False)
    variants = VariantSerializer(many=True, required=False)
    pinned_variants = serializers.DictField(child=serializers.CharField(max_length=100), required=False)
    prerequisites = PrerequisiteSerializer(many=True, required=False)
    error_threshold = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False, allow_null=True)
    error_window_seconds = serializers.IntegerField(min_value=1, max_value=MAX_INT, required=False)
    performance_baseline = serializers.FloatField(min_value=0, required=False, allow_null=True)
    performance_threshold = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.CharField(max_length=200, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    kind = serializers.ChoiceField(choices=FlagKind.choices, required=False)
    expected_lifetime_days = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False, allow_null=True)
    metadata = serializers.DictField(required=False)
    client_side = serializers.BooleanField(required=False, help_text="Shown to browsers by the client endpoint.")


class FlagCreateSerializer(FlagFieldsSerializer):
    key = serializers.RegexField(
        r"^(?!\.+$)[A-Za-z0-9_.\-]{1,100}$", max_length=100, help_text="Not only dots: a URL cannot name those."
    )


class FlagUpdateSerializer(FlagFieldsSerializer):
    version = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, help_text="The version you read; a stale one gets 409."
    )


class FlagSerializer(FlagCreateSerializer):
    """A flag as the API shows it."""

    version = serializers.IntegerField()
    user_count = serializers.IntegerField()
    excluded_count = serializers.IntegerField()


class UsersWriteSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.CharField(max_length=255, allow_blank=True), max_length=1_000_000)
    excluded = serializers.BooleanField(required=False, default=False)


class ListFieldWriteSerializer(serializers.Serializer):
    """``{"version": n, "<field>": [...]}`` for the rules, variants and constraints endpoints."""

    version = serializers.IntegerField(min_value=1, max_value=MAX_INT)


class ContextSerializer(serializers.Serializer):
    user_id = serializers.CharField(max_length=255, required=False, allow_null=True)
    user_hash = serializers.CharField(
        max_length=128, required=False, allow_null=True, help_text="Secure mode: needed with an evaluate-scope key."
    )
    anonymous_id = serializers.CharField(max_length=255, required=False, allow_null=True)
    environment = serializers.CharField(max_length=100, required=False, allow_null=True)
    attributes = serializers.DictField(required=False)

    def validate_attributes(self, value):
        for name, item in value.items():
            if isinstance(item, (dict, list)):
                raise serializers.ValidationError(f"{name!r}: an attribute is a string, number or boolean.")
        return value


class EvaluateSerializer(serializers.Serializer):
    keys = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=1000)
    context = ContextSerializer(required=False)


class DecisionSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    variant = serializers.CharField(allow_null=True)
    value = serializers.JSONField(allow_null=True, help_text="The variant's typed value; null when off.")
    reason = serializers.CharField(required=False, help_text="Only for server-side callers (read or write scope).")
    rule = serializers.CharField(
        required=False, allow_null=True, help_text="The deciding rule's id; only for server-side callers."
    )


class EvaluateResponseSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    flags = serializers.DictField(child=DecisionSerializer())


class ClientFlagSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    variant = serializers.CharField(allow_null=True)
    value = serializers.JSONField(allow_null=True)


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    source = serializers.CharField()
    source_detail = serializers.CharField()
    action = serializers.CharField()
    flag = serializers.CharField(source="flag_key")
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    note = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
