"""The one way flags are written: validated, versioned, audited, then mirrored.

Every write path (admin, dashboard, API, commands, imports, guardrails, the hanoi
facade) calls these functions. Each runs in one transaction: a refused write
changes nothing, and the mirror is told only after commit.

    from featureflags import services
    services.create_flag("new_ui", percentage=30, actor="alice", source="dashboard")
    services.update_flag("new_ui", {"enabled": True}, expected_version=1, actor="alice")
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.db.models import F
from django.db.models.constants import OnConflict
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .conf import flag_settings
from .engine.definition import (
    is_valid_key,
    validate_definition,
    validate_references,
)
from .input_checks import text_problem
from .models import (
    AuditEntry,
    Constraint,
    Flag,
    FlagKind,
    FlagUser,
    PinnedVariant,
    Prerequisite,
    Rule,
    Source,
    Variant,
)
from .serialization import (
    EDITABLE_FIELDS,
    META_FIELDS,
    RULE_FIELDS,
    SCALAR_FIELDS,
    flag_state,
    user_count,
    with_relations,
)
from .signals import send_flag_changed
from .store import changes, runtime

USER_ID_MAX_LENGTH = 255
MAX_INT = 2**31 - 1  # PositiveIntegerField on PostgreSQL
MAX_JSON_INT = 2**63 - 1  # jsonb holds more, but SQLite's JSON functions and most clients do not
_BAD_ID = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")  # control characters, lone surrogates
BATCH_SIZE = 5_000


KEY_MESSAGE = "A key is 1-100 ASCII letters, digits, '_', '-' or '.', and not only dots."


def is_routable_key(key: object) -> bool:
    """A valid key that a URL can also name: ``.`` and ``..`` are valid but a path never reaches them."""
    return is_valid_key(key) and key.strip(".") != ""  # type: ignore[union-attr]


class FlagConflict(Exception):
    """A write named a version that is no longer current; ``current`` is the flag as it is now."""

    def __init__(self, key: str, expected: int, current: dict[str, Any]) -> None:
        super().__init__(
            f"Flag {key!r} was changed by someone else: you edited version {expected}, "
            f"it is now at version {current['version']}."
        )
        self.key = key
        self.expected = expected
        self.current = current


class FlagNotFound(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(f"No flag is called {key!r}.")
        self.key = key


# -- flags ----------------------------------------------------------------------


def create_flag(
    key: str,
    *,
    actor: str | None = None,
    source: str = Source.CODE,
    source_detail: str = "",
    **fields: Any,
) -> Flag:
    """Create a flag (switched off, 100 % by default), validated and audited."""
    if not is_routable_key(key):
        raise ValidationError({"key": [KEY_MESSAGE]})
    _refuse_unknown(fields)
    with transaction.atomic():
        existing = Flag.all_objects.filter(key=key).values_list("archived_at", flat=True).first()
        if existing is not None:
            raise ValidationError({"key": [f"An archived flag is called {key!r}: restore it, or purge it first."]})
        if Flag.objects.filter(key=key).exists():
            raise ValidationError({"key": [f"A flag called {key!r} already exists."]})
        state = {**_new_flag_state(key), **_normalise(fields)}
        _validate(key, state, cross_flag=bool(state["prerequisites"]))
        try:
            with transaction.atomic():
                flag = Flag.objects.create(key=key)
        except IntegrityError as exc:
            raise ValidationError({"key": [f"A flag called {key!r} already exists."]}) from exc
        _write_state(flag, state)
        head = _bump(flag)
        _audit(flag, "create", None, _full_state(flag, reload=True), actor, source, source_detail)
        _announce([key], head)
    return flag


def update_flag(
    key: str,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    actor: str | None = None,
    source: str = Source.CODE,
    source_detail: str = "",
    action: str = "update",
    note: str = "",
) -> Flag:
    """Change some editable fields; with ``expected_version``, refuse a stale edit with :class:`FlagConflict`."""
    _refuse_unknown(changes)
    with transaction.atomic():
        flag = _locked(key)
        before = _full_state(flag)
        if expected_version is not None and int(expected_version) != flag.version:
            raise FlagConflict(key, int(expected_version), before)
        proposed = {**{k: v for k, v in before.items() if k in EDITABLE_FIELDS}, **_normalise(changes)}
        if all(proposed.get(k) == before.get(k) for k in changes):
            return flag  # nothing changes: no version, no audit entry
        # Other flags matter only when the prerequisite graph or the variants they may require change.
        _validate(key, proposed, cross_flag=bool({"prerequisites", "variants"} & set(changes)))
        _write_state(flag, proposed, only=set(changes))
        head = _bump(flag)
        after = {**before, **{k: v for k, v in proposed.items() if k in changes}, "version": flag.version}
        _audit(flag, action, before, after, actor, source, source_detail, note)
        _announce([key], head)
    return flag


def set_enabled(key: str, enabled: bool, **kwargs: Any) -> Flag:
    kwargs.setdefault("action", "enable" if enabled else "disable")
    return update_flag(key, {"enabled": bool(enabled)}, **kwargs)


def kill(key: str, **kwargs: Any) -> Flag:
    """The kill switch: the flag is off for everyone until switched on again."""
    kwargs.setdefault("action", "kill")
    return update_flag(key, {"enabled": False}, **kwargs)


def set_percentage(key: str, percentage: Any, **kwargs: Any) -> Flag:
    kwargs.setdefault("action", "set_percentage")
    return update_flag(key, {"percentage": percentage}, **kwargs)


def delete_flag(
    key: str,
    *,
    expected_version: int | None = None,
    actor: str | None = None,
    source: str = Source.CODE,
    source_detail: str = "",
) -> None:
    """Delete = archive: the flag leaves evaluation and every list; its row and user lists stay
    until :func:`purge_flag` (or ``PURGE_ARCHIVED_AFTER_DAYS``); :func:`restore_flag` undoes it."""
    with transaction.atomic():
        flag = _locked(key)
        before = _full_state(flag)
        if expected_version is not None and int(expected_version) != flag.version:
            raise FlagConflict(key, int(expected_version), before)
        live_children = Prerequisite.objects.filter(parent=flag, flag__archived_at__isnull=True)
        dependents = sorted(live_children.values_list("flag__key", flat=True))
        if dependents:
            raise ValidationError(
                {"key": [f"{key!r} is a prerequisite of {', '.join(dependents)}; change those first."]}
            )
        now = timezone.now()
        Flag.all_objects.filter(pk=flag.pk).update(archived_at=now, archived_by=str(actor or "")[:200])
        head = _bump(flag)
        _audit(flag, "delete", before, {"archived_at": now.isoformat()}, actor, source, source_detail)
        _announce([key], head)


def restore_flag(key: str, *, actor: str | None = None, source: str = Source.CODE, source_detail: str = "") -> Flag:
    """Bring an archived flag back, as it was (switched off: a restore never turns anything on)."""
    with transaction.atomic():
        try:
            flag = with_relations(Flag.all_objects.select_for_update()).get(key=key, archived_at__isnull=False)
        except Flag.DoesNotExist:
            raise FlagNotFound(key) from None
        gone = sorted(p.parent.key for p in flag.prerequisites.all() if p.parent.archived_at is not None)
        if gone:
            raise ValidationError({"key": [f"{key!r} needs {', '.join(gone)}, archived too: restore those first."]})
        Flag.all_objects.filter(pk=flag.pk).update(archived_at=None, archived_by="", enabled=False)
        head = _bump(flag)
        flag = with_relations(Flag.objects).get(pk=flag.pk)
        _audit(flag, "restore", None, _full_state(flag), actor, source, source_detail)
        _announce([key], head)
    return flag


def archived_flags(older_than_days: float | None = None):
    """Archived flags (archived more than ``older_than_days`` ago, when given), oldest first."""
    queryset = Flag.all_objects.filter(archived_at__isnull=False).order_by("archived_at")
    if older_than_days is not None:
        queryset = queryset.filter(archived_at__lte=timezone.now() - timedelta(days=older_than_days))
    return queryset


def purge_flag(key: str, *, actor: str | None = None, source: str = Source.CODE, source_detail: str = "") -> int:
    """Remove an archived flag and its user lists for good; returns how many ids went with it.

    Only archived flags can be purged: delete (archive) first. The audit log keeps the history.
    """
    with transaction.atomic():
        try:
            flag = Flag.all_objects.select_for_update().get(key=key, archived_at__isnull=False)
        except Flag.DoesNotExist:
            raise FlagNotFound(key) from None
        dependents = sorted(Prerequisite.objects.filter(parent=flag).values_list("flag__key", flat=True))
        if dependents:
            raise ValidationError(
                {"key": [f"{key!r} is a prerequisite of {', '.join(dependents)}: purge those first."]}
            )
        ids = FlagUser.objects.filter(flag=flag).count()
        _audit(
            flag,
            "purge",
            {"archived_at": flag.archived_at.isoformat(), "user_ids": ids},
            None,
            actor,
            source,
            source_detail,
        )
        FlagUser.objects.filter(flag=flag)._raw_delete(FlagUser.objects.db)  # millions of rows: no signals needed
        flag.delete()
    return ids


def purge_expired(*, actor: str | None = None, source: str = Source.SYSTEM) -> list[str]:
    """Purge the flags archived longer than ``PURGE_ARCHIVED_AFTER_DAYS`` (None: never automatically)."""
    days = flag_settings.PURGE_ARCHIVED_AFTER_DAYS
    if days is None:
        return []
    keys = list(archived_flags(older_than_days=days).values_list("key", flat=True))
    for key in keys:
        purge_flag(key, actor=actor, source=source, source_detail=f"archived more than {days} days")
    return keys


def restore_state(key: str, state: Mapping[str, Any], **kwargs: Any) -> Flag:
    """Put back an earlier state (from an audit entry); audited as ``revert``."""
    kwargs.setdefault("action", "revert")
    return update_flag(key, {k: v for k, v in state.items() if k in EDITABLE_FIELDS}, **kwargs)


# -- user lists -------------------------------------------------------------------


def add_users(
    key: str,
    ids: Iterable[Any],
    *,
    excluded: bool = False,
    actor: str | None = None,
    source: str = Source.CODE,
    source_detail: str = "",
) -> int:
    """Add ids to the flag's list (or its excluded list); returns how many were new."""
    return _change_users(key, ids, excluded, "add", actor, source, source_detail)


def remove_users(
    key: str,
    ids: Iterable[Any],
    *,
    excluded: bool = False,
    actor: str | None = None,
    source: str = Source.CODE,
    source_detail: str = "",
) -> int:
    return _change_users(key, ids, excluded, "remove", actor, source, source_detail)


def replace_users(
    key: str,
    ids: Iterable[Any],
    *,
    excluded: bool = False,
    actor: str | None = None,
    source: str = Source.CODE,
    source_detail: str = "",
) -> int:
    """Make the list exactly ``ids`` (streamed in batches, all or nothing); returns its size."""
    return _change_users(key, ids, excluded, "replace", actor, source, source_detail)


def clean_user_id(raw: Any, line: int | None = None) -> str:
    """An id as stored, or a ValidationError naming the line."""
    user_id = str(raw).strip() if raw is not None else ""
    where = f" (line {line})" if line is not None else ""
    if not user_id:
        raise ValidationError({"users": [f"An empty user id{where}."]})
    if len(user_id) > USER_ID_MAX_LENGTH or _BAD_ID.search(user_id):
        raise ValidationError(
            {"users": [f"{user_id[:40]!r}{where} is not a user id: at most {USER_ID_MAX_LENGTH} printable characters."]}
        )
    return user_id


def _change_users(key, ids, excluded, mode, actor, source, source_detail) -> int:
    field = "excluded_users" if excluded else "users"
    with transaction.atomic():
        flag = _locked(key)
        count_before = user_count(flag, excluded)
        changed = 0
        sample: list[str] = []
        if mode == "replace":
            FlagUser.objects.filter(flag=flag, excluded=excluded)._raw_delete(FlagUser.objects.db)
        for batch in _batches(ids):
            if len(sample) < 20:
                sample.extend(batch[: 20 - len(sample)])
            if mode == "remove":
                changed += FlagUser.objects.filter(flag=flag, excluded=excluded, user_id__in=batch)._raw_delete(
                    FlagUser.objects.db
                )
            else:
                _insert_user_ids(flag, batch, excluded)
        count_after = user_count(flag, excluded)
        if mode != "remove":
            changed = count_after - count_before if mode == "add" else count_after
        if count_after == count_before and mode != "replace":
            return 0
        head = _bump(flag)
        flag.users_version = head.version
        flag.save(update_fields=["users_version"])
        _audit(
            flag,
            f"{mode}_{field}",
            {field: {"count": count_before}},
            {field: {"count": count_after, "sample": sample}},
            actor,
            source,
            source_detail,
        )
        _announce([key], head)
    return changed


def _insert_user_ids(flag: Flag, ids: list[str], excluded: bool) -> None:
    """Multi-row INSERTs, duplicates ignored: for a million ids, ORM model instances
    would cost ~20x the SQL itself (measured on SQLite and PostgreSQL)."""
    connection = connections[FlagUser.objects.db]
    fields = [FlagUser._meta.get_field(name) for name in ("flag", "user_id", "excluded")]
    quote = connection.ops.quote_name
    head = "{} {} ({}) VALUES ".format(
        connection.ops.insert_statement(on_conflict=OnConflict.IGNORE),
        quote(FlagUser._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
    )
    tail = " " + (connection.ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None) or "")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one array parameter instead of thousands
            cursor.execute(
                head.replace("VALUES ", "") + "SELECT %s, unnest(%s::text[]), %s" + tail, [flag.pk, ids, excluded]
            )
            return
        size = max(1, min(1000, connection.ops.bulk_batch_size(fields, ids)))
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            params = [value for user_id in chunk for value in (flag.pk, user_id, excluded)]
            cursor.execute(head + ", ".join(["(%s, %s, %s)"] * len(chunk)) + tail, params)


def _batches(ids: Iterable[Any]) -> Iterable[list[str]]:
    batch: list[str] = []
    for line, raw in enumerate(ids, start=1):
        batch.append(clean_user_id(raw, line))
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


# -- the audit log ------------------------------------------------------------------


def _audit(flag, action, before, after, actor, source, source_detail="", note="") -> AuditEntry:
    return AuditEntry.objects.create(
        actor=str(actor or flag_settings.DEFAULT_ACTOR)[:200],
        source=source,
        source_detail=str(source_detail)[:500],
        action=action,
        flag_key=flag.key,
        flag=flag if action != "purge" else None,
        before=before,
        after=after,
        note=note,
    )


def record_event(
    key: str, action: str, *, actor: str | None = None, source: str = Source.SYSTEM, note: str = "", after: Any = None
) -> AuditEntry:
    """Audit something that happened to a flag without changing it (a schedule boundary passed, ...)."""
    flag = Flag.objects.filter(key=key).first()
    return AuditEntry.objects.create(
        actor=str(actor or flag_settings.DEFAULT_ACTOR)[:200],
        source=source,
        action=action,
        flag_key=key,
        flag=flag,
        after=after,
        note=note,
    )


# -- internals ----------------------------------------------------------------------


def _locked(key: str) -> Flag:
    try:
        return with_relations(Flag.objects.select_for_update()).get(key=key)
    except Flag.DoesNotExist:
        raise FlagNotFound(key) from None


def _full_state(flag: Flag, reload: bool = False) -> dict[str, Any]:
    """The audited state: every editable field and the list sizes."""
    if reload:
        flag = with_relations(Flag.all_objects).get(pk=flag.pk)
    state = flag_state(flag)
    state["user_count"] = user_count(flag)
    state["excluded_count"] = user_count(flag, excluded=True)
    return state


def _new_flag_state(key: str) -> dict[str, Any]:
    defaults = Flag(key=key)
    state: dict[str, Any] = {name: getattr(defaults, name) for name in SCALAR_FIELDS}
    state.update(rules=[], constraints=[], variants=[], pinned_variants={}, prerequisites=[])
    return state


def _refuse_unknown(fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({name: ["Not a field of a flag (or not editable here)."] for name in unknown})


def _normalise(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Accept the forms callers naturally send (strings from forms and files)."""
    out = dict(fields)
    if "percentage" in out:
        out["percentage"] = _as_int(out["percentage"])
    for name in ("start_at", "end_at"):
        if isinstance(out.get(name), datetime):
            value = out[name]
            out[name] = (value if timezone.is_aware(value) else timezone.make_aware(value)).isoformat()
        elif out.get(name) == "":
            out[name] = None
    if "rules" in out and isinstance(out["rules"], (list, tuple)):
        out["rules"] = [r for r in out["rules"]]
    if "prerequisites" in out and isinstance(out["prerequisites"], (list, tuple)):
        out["prerequisites"] = [
            {"key": p} if isinstance(p, str) else dict(p) if isinstance(p, Mapping) else p  # others: refused later
            for p in out["prerequisites"]
        ]
    if "pinned_variants" in out and isinstance(out["pinned_variants"], Mapping):
        out["pinned_variants"] = {str(k): v for k, v in out["pinned_variants"].items()}
    if "variants" in out and isinstance(out["variants"], (list, tuple)):
        out["variants"] = [
            {"name": v, "weight": 1}
            if isinstance(v, str)
            else {**_without_empty_value(v), "weight": _as_int(v.get("weight", 1))}
            if isinstance(v, Mapping)
            else v  # refused by validation, naming the field
            for v in out["variants"]
        ]
    return out


def _without_empty_value(variant: Mapping[str, Any]) -> dict[str, Any]:
    # No value and a null one mean the same (the stored state omits it), so an edit compares equal.
    return {k: v for k, v in variant.items() if k != "value" or v is not None}


def _as_int(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return value


def _validate(key: str, state: Mapping[str, Any], cross_flag: bool = True) -> None:
    """Raise a ValidationError naming each bad field of one flag's proposed state."""
    errors = _validate_many({key: state}, cross_flag=cross_flag)
    if errors:
        raise ValidationError({field[len(key) + 1 :]: messages for field, messages in errors.items()})


_CHAR_LIMITS = {"stickiness": 100, "salt": 100, "bucketing": 10, "kind": 20, "owner": 200}  # the columns' sizes


def _unstorable(value: Any, depth: int = 0) -> str | None:
    """Why plain data would not be stored as given by every supported database, or None."""
    if depth > 32:
        return "At most 32 nested levels."
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if -MAX_JSON_INT <= value <= MAX_JSON_INT else "A number too large to store."
    if isinstance(value, float):
        ok = value == value and value not in (float("inf"), float("-inf"))
        return None if ok else "NaN and Infinity are not numbers JSON can hold."
    if isinstance(value, Mapping):
        for k, v in value.items():
            problem = _unstorable(k, depth + 1) or _unstorable(v, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        for v in value:
            problem = _unstorable(v, depth + 1)
            if problem:
                return problem
    return None


def _validate_metadata(state: Mapping[str, Any], errors: dict[str, list[str]]) -> None:
    def check(name: str, ok: bool, message: str) -> None:
        if name in state and not ok:
            errors.setdefault(name, []).append(message)

    def optional_int(value: Any) -> bool:
        # The columns are 32-bit integers on PostgreSQL: a larger value would be a DataError (a 500).
        return value is None or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT)

    check("kind", state.get("kind") in FlagKind.values, f"One of {', '.join(FlagKind.values)}.")
    check(
        "owner", isinstance(state.get("owner"), str) and len(state.get("owner", "")) <= 200, "At most 200 characters."
    )
    check("description", isinstance(state.get("description"), str), "Must be text.")
    check(
        "tags",
        isinstance(state.get("tags"), list) and all(isinstance(t, str) for t in state.get("tags", [])),
        "A list of words.",
    )
    check("metadata", isinstance(state.get("metadata"), dict), "Must be an object.")
    for name, value in state.items():
        # What the database would refuse (PostgreSQL: NUL, NaN; any: deep nesting) is a 500 otherwise.
        problem = _unstorable(value)
        check(name, problem is None, problem or "")
        limit = _CHAR_LIMITS.get(name)
        check(name, limit is None or not isinstance(value, str) or len(value) <= limit, f"At most {limit} characters.")
    for name in ("error_threshold", "performance_threshold", "expected_lifetime_days"):
        check(name, optional_int(state.get(name)), f"A whole number from 0 to {MAX_INT}, or empty.")
    check(
        "error_window_seconds",
        optional_int(state.get("error_window_seconds")) and state.get("error_window_seconds") not in (None, 0),
        f"A whole number of seconds from 1 to {MAX_INT}.",
    )
    variants = state.get("variants")
    for index, variant in enumerate(variants if isinstance(variants, (list, tuple)) else []):
        weight = variant.get("weight", 1) if isinstance(variant, Mapping) else None
        if isinstance(weight, int) and not isinstance(weight, bool) and weight > MAX_INT:
            errors.setdefault(f"variants.{index}.weight", []).append(f"A weight is at most {MAX_INT}.")
    baseline = state.get("performance_baseline")
    check(
        "performance_baseline",
        baseline is None or (isinstance(baseline, (int, float)) and not isinstance(baseline, bool) and baseline > 0),
        "A number of seconds > 0, or empty.",
    )


def _write_state(flag: Flag, state: Mapping[str, Any], only: set[str] | None = None) -> None:
    fields = set(EDITABLE_FIELDS) if only is None else only
    for name in fields & set(
        META_FIELDS
        + ("enabled", "percentage", "stickiness", "salt", "bucketing", "value_type", "environments", "client_side")
    ):
        setattr(flag, name, state[name])
    for name in fields & {"start_at", "end_at"}:
        value = state[name]
        setattr(flag, name, parse_datetime(value) if isinstance(value, str) else value)
    flag.save()
    if "rules" in fields:
        flag.rules.all().delete()
        Rule.objects.bulk_create([Rule(flag=flag, pattern=p, position=i) for i, p in enumerate(state["rules"])])
    if "constraints" in fields:
        flag.constraints.all().delete()
        Constraint.objects.bulk_create(
            [
                Constraint(
                    flag=flag,
                    attribute=c["attribute"],
                    operator=c["operator"],
                    values=list(c.get("values", [])),
                    inverted=bool(c.get("inverted", False)),
                    case_insensitive=bool(c.get("case_insensitive", False)),
                    position=i,
                )
                for i, c in enumerate(state["constraints"])
            ]
        )
    if "variants" in fields:
        flag.variants.all().delete()
        Variant.objects.bulk_create(
            [
                Variant(flag=flag, name=v["name"], weight=v.get("weight", 1), value=v.get("value"), position=i)
                for i, v in enumerate(state["variants"])
            ]
        )
    if "pinned_variants" in fields:
        flag.pinned_variants.all().delete()
        PinnedVariant.objects.bulk_create(
            [PinnedVariant(flag=flag, user_id=u, variant=v) for u, v in state["pinned_variants"].items()]
        )
    if "prerequisites" in fields:
        flag.prerequisites.all().delete()
        parents = {f.key: f for f in Flag.objects.filter(key__in=[p["key"] for p in state["prerequisites"]])}
        Prerequisite.objects.bulk_create(
            [
                Prerequisite(flag=flag, parent=parents[p["key"]], variant=p.get("variant") or "", position=i)
                for i, p in enumerate(state["prerequisites"])
            ]
        )


def _bump(flag: Flag) -> changes.Head:
    """Log the change in this transaction (``featureflags.store.changes``); the flag records its version."""
    head = changes.record([flag.key])
    Flag.all_objects.filter(pk=flag.pk).update(version=F("version") + 1, mirror_version=head.version)
    flag.refresh_from_db(fields=["version", "mirror_version"])
    return head


def _announce(keys: list[str], head: changes.Head) -> None:
    """Inside the writing transaction: this process serves the change to it now, and to
    everyone once it commits (published to Redis; logged in the database either way)."""
    runtime.announce(keys, head)
    transaction.on_commit(lambda: send_flag_changed(keys))  # featureflags.signals.flag_changed


# -- many flags at once (imports) -----------------------------------------------------


def apply_definitions(
    definitions: Mapping[str, Mapping[str, Any]],
    *,
    dry_run: bool = False,
    actor: str | None = None,
    source: str = Source.IMPORT,
    source_detail: str = "",
) -> dict[str, str]:
    """Create or update many flags, all or nothing; returns ``{key: created|updated|unchanged}``.

    Each definition holds editable fields and optionally ``users`` and
    ``excluded_users`` (the complete lists). Every problem of every flag is
    raised at once as one ValidationError keyed ``"<flag>.<field>"``.
    """
    incoming = {key: _split_lists(key, definition) for key, definition in definitions.items()}
    errors = _validate_many({key: state for key, (state, _lists) in incoming.items()})
    if errors:
        raise ValidationError(errors)
    report: dict[str, str] = {}
    with transaction.atomic():
        # An archived flag named by the import comes back (restored, with its lists unless the import gives them).
        locked = with_relations(Flag.all_objects.select_for_update()).filter(key__in=list(incoming))
        existing = {f.key: f for f in locked}
        for key, (state, lists) in incoming.items():
            flag = existing.get(key)
            if flag is None:
                report[key] = "created"
                continue
            if flag.archived_at is not None:
                report[key] = "updated"
                continue
            current = _full_state(flag)
            same_state = all(current.get(name) == value for name, value in state.items())
            same_lists = all(
                set(_list_ids(flag, field == "excluded_users")) == set(ids) for field, ids in lists.items()
            )
            report[key] = "unchanged" if same_state and same_lists else "updated"
        if dry_run:
            return report
        for key, status in report.items():
            if status == "created":
                existing[key] = Flag.objects.create(key=key)
        changed = [key for key, status in report.items() if status != "unchanged"]
        head = changes.record(changed) if changed else None  # one change for the whole import
        for key, (state, lists) in incoming.items():
            if report[key] == "unchanged":
                continue
            flag = existing[key]
            if flag.archived_at is not None:
                Flag.all_objects.filter(pk=flag.pk).update(archived_at=None, archived_by="")
                flag.archived_at = None
            before = None if report[key] == "created" else _full_state(flag)
            full = {**(_new_flag_state(key) if before is None else before), **state}
            _write_state(flag, {k: v for k, v in full.items() if k in EDITABLE_FIELDS})
            for field, ids in lists.items():
                excluded = field == "excluded_users"
                FlagUser.objects.filter(flag=flag, excluded=excluded)._raw_delete(FlagUser.objects.db)
                for batch in _batches(ids):
                    _insert_user_ids(flag, batch, excluded)
            assert head is not None
            marks: dict[str, Any] = {"version": F("version") + 1, "mirror_version": head.version}
            if lists:
                marks["users_version"] = head.version
            Flag.objects.filter(pk=flag.pk).update(**marks)
            flag.refresh_from_db(fields=["version", "mirror_version", "users_version"])
            after = _full_state(flag, reload=True)
            _audit(flag, "import" if before is None else "import_update", before, after, actor, source, source_detail)
        if head is not None:
            _announce(changed, head)
    return report


def _split_lists(key: str, definition: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    state = dict(definition)
    state.pop("key", None)
    lists = {field: [str(i) for i in state.pop(field)] for field in ("users", "excluded_users") if field in state}
    return _normalise(state), lists


def _list_ids(flag: Flag, excluded: bool) -> Iterable[str]:
    return FlagUser.objects.filter(flag=flag, excluded=excluded).values_list("user_id", flat=True).iterator()


def _validate_many(states: Mapping[str, Mapping[str, Any]], cross_flag: bool = True) -> dict[str, list[str]]:
    """Every problem of these proposed states, keyed ``"<flag>.<field>"``.

    With ``cross_flag``, prerequisites are checked against every other flag in the
    database as it would be after the change (missing flags, variants, cycles).
    """
    errors: dict[str, list[str]] = {}
    graph = _prerequisite_graph(exclude=list(states)) if cross_flag else {}
    for key, state in states.items():
        if not is_routable_key(key):
            errors.setdefault(f"{key}.key", []).append(KEY_MESSAGE)
            continue
        for name in sorted(set(state) - set(EDITABLE_FIELDS)):
            errors.setdefault(f"{key}.{name}", []).append("Not a field of a flag.")
        full = {**_new_flag_state(key), **{k: v for k, v in state.items() if k in EDITABLE_FIELDS}}
        definition = {"key": key, **{name: full[name] for name in RULE_FIELDS}}
        for problem in validate_definition(definition):
            errors.setdefault(f"{key}.{problem.field}", []).append(problem.message)
        metadata_errors: dict[str, list[str]] = {}
        _validate_metadata(full, metadata_errors)
        for field, messages in metadata_errors.items():
            errors.setdefault(f"{key}.{field}", []).extend(messages)
        graph[key] = definition
    if cross_flag:
        for problem in validate_references(graph):
            if problem.key in states:
                errors.setdefault(f"{problem.key}.{problem.field}", []).append(problem.message)
    return errors


def _prerequisite_graph(exclude: list[str]) -> dict[str, dict[str, Any]]:
    """Every other flag's prerequisites and variant names, as minimal definitions."""
    graph: dict[str, dict[str, Any]] = {
        key: {"key": key, "prerequisites": [], "variants": []}
        for key in Flag.objects.exclude(key__in=exclude).values_list("key", flat=True)
    }
    live = Prerequisite.objects.filter(flag__archived_at__isnull=True).exclude(flag__key__in=exclude)
    rows = live.values_list("flag__key", "parent__key", "variant")
    for child, parent, variant in rows:
        graph[child]["prerequisites"].append({"key": parent, **({"variant": variant} if variant else {})})
    live_variants = Variant.objects.filter(flag__archived_at__isnull=True).exclude(flag__key__in=exclude)
    for flag_key, name in live_variants.values_list("flag__key", "name"):
        graph[flag_key]["variants"].append({"name": name, "weight": 1})
    return graph
