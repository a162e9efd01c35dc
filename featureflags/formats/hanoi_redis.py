"""Import flags from a hanoi 0.0.4 Redis keyspace, keeping hanoi's crc32 bucketing.

hanoi 0.0.4 keeps one string per function, ``rollout:<name>``, in one of two layouts:

- ``RedisHighPerfBackEnd``: ``"<1|0>|<percentage>|<id field>|<variants, comma-separated>"``,
  users in the set ``rollout:users:<name>``;
- ``RedisBackEnd``: ``"<1|0>|<percentage>|<id field>|<users, comma-separated>|<variants>"``.

Both are read (and the 3-part ``"<1|0>|<percentage>|<id field>"`` of earlier
releases); users from the set and from the string are merged, variants get
equal weights. The regex rule lived only in process memory: there is none to import.

    definitions = read_keyspace(redis.Redis.from_url(url))
    services.apply_definitions(definitions, source="import", source_detail="hanoi redis")
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from ..engine.definition import is_valid_key

FLAG_PATTERN = "rollout:"
USERS_PATTERN = "rollout:users:"


def read_keyspace(client: Any, prefix: str = "") -> dict[str, dict[str, Any]]:
    """Definitions keyed by flag from every ``<prefix>rollout:<name>`` string; errors listed by flag."""
    errors: dict[str, list[str]] = {}
    definitions: dict[str, dict[str, Any]] = {}
    start = prefix + FLAG_PATTERN
    for raw_key in client.scan_iter(match=_escape(start) + "*", count=1000):
        key = _text(raw_key)
        if key.startswith(prefix + USERS_PATTERN):
            continue
        name = key[len(start) :]
        if client.type(raw_key) not in (b"string", "string"):
            errors.setdefault(f"{name}.definition", []).append(f"{key} is not a string.")
            continue
        definition = _definition(name, _text(client.get(raw_key) or b""), errors)
        if definition is None:
            continue
        users_key = prefix + USERS_PATTERN + name
        members = {_text(m) for m in client.sscan_iter(users_key, count=10_000)}
        definition["users"] = sorted(members | set(definition.pop("csv_users", [])))
        definitions[name] = definition
    if errors:
        raise ValidationError(errors)
    return definitions


def _definition(name: str, value: str, errors: dict[str, list[str]]) -> dict[str, Any] | None:
    def error(field: str, message: str) -> None:
        errors.setdefault(f"{name}.{field}", []).append(message)

    if not is_valid_key(name):
        error("key", f"{name!r} cannot be a flag key: 1-100 letters, digits, '_', '-' or '.'.")
        return None
    parts = value.split("|") if value else ["1", "100", ""]  # hanoi read an empty value as on, 100 %
    if len(parts) < 2 or parts[0] not in ("0", "1"):
        error("definition", f"{value!r} is not hanoi's '<1|0>|<percentage>|...' value.")
        return None
    try:
        percentage = int(parts[1])
    except ValueError:
        error("percentage", f"{parts[1]!r} is not a whole number.")
        return None
    definition: dict[str, Any] = {
        "enabled": parts[0] == "1",
        "percentage": percentage,
        "bucketing": "crc32",  # keeps each user in the cohort hanoi put them in
        "description": "Imported from hanoi.",
    }
    if len(parts) not in (3, 4, 5):
        error("definition", f"{value!r} has {len(parts)} parts; hanoi wrote 3, 4 or 5.")
        return None
    if parts[2]:
        definition["metadata"] = {"hanoi_id_field": parts[2]}
    if len(parts) == 5:
        definition["csv_users"] = [u for u in parts[3].split(",") if u]
    variants = [v for v in parts[-1].split(",") if v] if len(parts) >= 4 else []
    if variants:
        definition["variants"] = [{"name": v, "weight": 1} for v in variants]
    return definition


def _text(value: Any) -> str:
    # Bytes that are not UTF-8 stay visible (and fail validation by name) instead of crashing the import.
    return value.decode("utf-8", errors="backslashreplace") if isinstance(value, bytes) else str(value)


def _escape(pattern: str) -> str:
    # SCAN's MATCH is a glob: a prefix holding *, ? or [ must match itself only.
    return "".join("\\" + c if c in "*?[]\\" else c for c in pattern)
