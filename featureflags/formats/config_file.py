"""The ``features_config.json`` format teams keep flags in (``spec/config-file.md``).

``parse_config(data)`` turns the file's object into definitions for
``services.apply_definitions``; problems are collected per flag and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

KNOWN_FIELDS = {
    "active",
    "regions",
    "account_types",
    "beta_program",
    "users",
    "percentage_rollout",
    "activation_date",
    "environments",
    "depends_on",
    "error_threshold",
    "performance_baseline",
    "performance_threshold",
    "metadata",
}
# Fields that target someone besides a user list; without them a list limits the flag to its users.
_TARGETING_FIELDS = ("regions", "account_types", "beta_program")


def parse_config(data: Any) -> dict[str, dict[str, Any]]:
    """Definitions keyed by flag; raises ValidationError keyed ``"<flag>.<field>"`` listing every problem."""
    definitions, errors = read_config(data)
    if errors:
        raise ValidationError(errors)
    return definitions


def read_config(data: Any) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """The definitions that could be read, and the problems found (an importer may check the rest too)."""
    if not isinstance(data, Mapping):
        return {}, {"file": ["The file must hold a JSON object of flag key -> definition."]}
    errors: dict[str, list[str]] = {}
    definitions: dict[str, dict[str, Any]] = {}
    for key, entry in data.items():

        def error(field: str, message: str, key: str = key) -> None:
            errors.setdefault(f"{key}.{field}", []).append(message)

        if not isinstance(entry, Mapping):
            error("definition", "A flag's definition is a JSON object.")
            continue
        for field in sorted(set(entry) - KNOWN_FIELDS):
            error(field, f"Unknown field {field!r} in flag {key!r}.")
        definitions[key] = _definition(entry, error)
    return definitions, errors


def _definition(entry: Mapping[str, Any], error) -> dict[str, Any]:
    definition: dict[str, Any] = {"enabled": entry.get("active", False)}
    if not isinstance(definition["enabled"], bool):
        error("active", "Must be true or false.")
    constraints = []
    for field, attribute in (("regions", "region"), ("account_types", "account_type")):
        if field in entry:
            values = entry[field]
            if not isinstance(values, list):
                error(field, "Must be a list.")
                continue
            constraints.append(_constraint(attribute, [_text(v) for v in values]))
    if "beta_program" in entry:
        if not isinstance(entry["beta_program"], bool):
            error("beta_program", "Must be true or false.")
        elif entry["beta_program"]:
            constraints.append(_constraint("beta_program", ["true"]))
    definition["constraints"] = constraints
    users = entry.get("users", [])
    if not isinstance(users, list):
        error("users", "Must be a list of user ids.")
        users = []
    definition["users"] = [_text(u) for u in users]
    if "percentage_rollout" in entry:
        definition["percentage"] = entry["percentage_rollout"]
    else:
        only_users = bool(users) and not any(f in entry for f in _TARGETING_FIELDS)
        definition["percentage"] = 0 if only_users else 100
    if "activation_date" in entry:
        definition["start_at"] = _date(entry["activation_date"], error)
    if "environments" in entry:
        definition["environments"] = entry["environments"]
    if "depends_on" in entry:
        depends = entry["depends_on"]
        if not isinstance(depends, list):
            error("depends_on", "Must be a list of flag keys.")
        else:
            definition["prerequisites"] = [{"key": k} for k in depends]
    for field in ("error_threshold", "performance_threshold"):
        if field in entry:
            definition[field] = entry[field]
    if "performance_baseline" in entry:
        definition["performance_baseline"] = entry["performance_baseline"]
    metadata = entry.get("metadata", {})
    if not isinstance(metadata, Mapping):
        error("metadata", "Must be an object.")
        metadata = {}
    definition["description"] = str(metadata.get("description", ""))
    definition["owner"] = str(metadata.get("owner", ""))
    definition["metadata"] = {k: v for k, v in metadata.items() if k not in ("description", "owner")}
    return definition


def _constraint(attribute: str, values: list[str]) -> dict[str, Any]:
    # Every field spelled out, as the database gives them back: a re-import then compares equal.
    return {"attribute": attribute, "operator": "IN", "values": values, "inverted": False, "case_insensitive": False}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _date(value: Any, error) -> str | None:
    if not isinstance(value, str):
        error("activation_date", "Must be an ISO 8601 date and time.")
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        error("activation_date", f"{value!r} is not an ISO 8601 date and time.")
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed.isoformat()
