"""The hanoi-compatible API: change one import, keep your code.

    from featureflags.compat.hanoi import Rollout, MemoryBackEnd, RedisBackEnd, RedisHighPerfBackEnd, RolloutException

    rollout = Rollout(RedisBackEnd())
    rollout.add_func("cdc_on", percentage=80)
    rollout.register("cdc_on", "447568110000")
    rollout.register("cdc_on", re.compile(r"01$"))
    rollout.is_enabled("cdc_on", "44488")            # False: crc32 bucket 92 is not < 80

A thin adapter over the product's evaluator (``featureflags.engine``), following
``spec/hanoi-compat.md``: functions are flags with ``bucketing="crc32"``; hanoi's
defects are fixed (ids are ``str(id)`` everywhere, the current id is per thread and
task, the rule is stored, ``RolloutException`` keeps hanoi's messages).

How the Redis backends relate to the product's store: a function is a real flag,
written through :mod:`featureflags.services` (source ``hanoi``, audited) to the
database, which stays the one truth, and mirrored to every process by the product's
Redis mirror; checks read the process's snapshot (no Redis round trip). The backends
also keep hanoi's data in Redis, as the spec asks: the registered ids in a Redis set
``<KEY_PREFIX>:hanoi:users:<name>`` (SADD/SREM: no read-modify-write), the rule in
``<KEY_PREFIX>:hanoi:rule:<name>`` and ``check`` in ``<KEY_PREFIX>:hanoi:func:<name>``.
They are written after the database commits, and rewritten from the database
when the flag is changed elsewhere (dashboard, API) in a process that has a backend, or by
:meth:`RedisBackEnd.resync`; they are a hanoi-shaped copy for tools and scripts, never
read to decide.
"""

from __future__ import annotations

import functools
import inspect
import re
import threading
import weakref
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from ..engine import CompiledFlag, Context, InvalidDefinition, Snapshot

__all__ = ["MemoryBackEnd", "RedisBackEnd", "RedisHighPerfBackEnd", "Rollout", "RolloutException"]

ACTOR = "hanoi"
_INT = re.compile(r"\s*[+-]?\d+\s*")
_FLAG_TO_RE2 = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))


class RolloutException(Exception):
    """Raised by the decorators (hanoi's messages) and by changes to unknown functions."""


def clean_percentage(value: Any) -> int:
    """An int 0-100 (ints in strings accepted, floats truncated), else ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"Percentage must be an integer from 0 to 100, not {value!r}.")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"Percentage must be an integer from 0 to 100, not {value!r}.")
        value = int(value)
    elif isinstance(value, str):
        if not _INT.fullmatch(value):
            raise ValueError(f"Percentage must be an integer from 0 to 100, not {value!r}.")
        value = int(value)
    elif not isinstance(value, int):
        raise ValueError(f"Percentage must be an integer from 0 to 100, not {value!r}.")
    if not 0 <= value <= 100:
        raise ValueError(f"Percentage must be an integer from 0 to 100, not {value}.")
    return value


def rule_pattern(pattern: re.Pattern) -> str:
    """A compiled Python pattern as RE2 text (its flags inlined)."""
    text = pattern.pattern.decode("utf-8") if isinstance(pattern.pattern, bytes) else pattern.pattern
    inline = "".join(letter for flag, letter in _FLAG_TO_RE2 if pattern.flags & flag)
    return f"(?{inline}){text}" if inline else text


# -- backends ---------------------------------------------------------------------


class _BackEnd:
    """Where functions live. Subclasses give the snapshot to evaluate and the writes."""

    bucketing_default = "crc32"

    def snapshot(self) -> Snapshot:
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        return name in self.snapshot()

    def is_enabled(self, name: str, context: Context | None) -> bool:
        from .. import overrides

        forced = overrides.lookup(name) if overrides.active else None
        return forced.enabled if forced is not None else self.snapshot().is_enabled(name, context, False)

    def variant(self, name: str, context: Context | None) -> str | None:
        from .. import overrides

        forced = overrides.lookup(name) if overrides.active else None
        return forced.variant if forced is not None else self.snapshot().variant(name, context)

    def get_functionalities(self) -> list[str]:
        return sorted(self.snapshot().flags)


class MemoryBackEnd(_BackEnd):
    """Process-local functions, for development and tests (no database, no Redis)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._definitions: dict[str, dict[str, Any]] = {}
        self._checks: dict[str, str | None] = {}
        self._snapshot = Snapshot({})

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def _store(self, name: str) -> None:
        definition = self._definitions[name]
        compiled = CompiledFlag({**definition, "users": sorted(definition["users"])})
        self._snapshot = self._snapshot.replace([compiled])

    def _definition(self, name: str) -> dict[str, Any]:
        definition = self._definitions.get(name)
        if definition is None:
            raise RolloutException(f"Feature <{name}> is not defined")
        return definition

    def create(self, name: str, fields: dict[str, Any], check: str | None) -> None:
        with self._lock:
            existing = self._definitions.get(name)
            definition = {"key": name, "users": set(), "rules": []} if existing is None else existing
            candidate = {**definition, **fields}
            try:
                CompiledFlag({**candidate, "users": []})  # validate before keeping anything
            except InvalidDefinition as exc:
                raise ValueError(f"Feature <{name}>: {exc}") from None
            self._definitions[name] = candidate
            self._checks[name] = check
            self._store(name)

    def change(self, name: str, **fields: Any) -> None:
        with self._lock:
            self._definition(name).update(fields)
            self._store(name)

    def toggle(self, name: str) -> None:
        with self._lock:
            definition = self._definition(name)
            definition["enabled"] = not definition["enabled"]
            self._store(name)

    def add_user(self, name: str, user_id: str) -> None:
        with self._lock:
            self._definition(name)["users"].add(user_id)
            self._store(name)

    def remove_user(self, name: str, user_id: str) -> None:
        with self._lock:
            self._definition(name)["users"].discard(user_id)
            self._store(name)

    def set_rule(self, name: str, pattern: str | None) -> None:
        with self._lock:
            definition = self._definition(name)
            previous = definition["rules"]
            definition["rules"] = [pattern] if pattern else []
            try:
                self._store(name)
            except Exception as exc:
                definition["rules"] = previous
                raise ValueError(f"The rule {pattern!r} cannot be used: {exc}") from exc

    def remove(self, name: str) -> None:
        with self._lock:
            self._definition(name)
            del self._definitions[name]
            self._checks.pop(name, None)
            self._snapshot = self._snapshot.replace(removed=[name])

    def check_of(self, name: str) -> str | None:
        return self._checks.get(name)


_live_redis_backends: weakref.WeakSet[RedisBackEnd] = weakref.WeakSet()
_facade_writing: ContextVar[bool] = ContextVar("hanoi_facade_writing", default=False)


class RedisBackEnd(_BackEnd):
    """Functions shared by every process: real flags (database + the product's mirror), with
    hanoi's users set, rule and ``check`` kept in Redis too (see the module's docstring).

    ``client_or_url``: a redis-py client, a URL, a ``(host, port[, db])`` tuple, or None
    (Django's configured Redis, else the product's: ``REDIS_URL`` or ``REDIS_SENTINELS``; else localhost).
    """

    def __init__(self, client_or_url: Any = None, *, prefix: str | None = None) -> None:
        self._source = client_or_url
        self._client = None
        self._prefix = prefix
        self._checks: dict[str, str | None] = {}
        _live_redis_backends.add(self)

    # -- Redis ------------------------------------------------------------------

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _redis_client(self._source)
        return self._client

    @property
    def prefix(self) -> str:
        if self._prefix is None:
            from ..conf import flag_settings

            return f"{flag_settings.KEY_PREFIX}:hanoi"
        return self._prefix

    def users_key(self, name: str) -> str:
        return f"{self.prefix}:users:{name}"

    def rule_key(self, name: str) -> str:
        return f"{self.prefix}:rule:{name}"

    def func_key(self, name: str) -> str:
        return f"{self.prefix}:func:{name}"

    def users(self, name: str) -> set[str]:
        """The ids registered for ``name``, as kept in the Redis set."""
        return {m.decode() if isinstance(m, bytes) else m for m in self.client.smembers(self.users_key(name))}

    def rule(self, name: str) -> str | None:
        raw = self.client.get(self.rule_key(name))
        return raw.decode() if isinstance(raw, bytes) else raw

    # -- reads --------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        from ..store import runtime

        return runtime.current()

    def is_enabled(self, name: str, context: Context | None) -> bool:
        from ..decisions import is_enabled_for

        return is_enabled_for(name, context)  # real flags: overrides, usage counts, like every entry point

    def variant(self, name: str, context: Context | None) -> str | None:
        from ..decisions import variant_for

        return variant_for(name, context)

    def check_of(self, name: str) -> str | None:
        if name not in self._checks:
            try:
                raw = self.client.hget(self.func_key(name), "check")
            except Exception:  # Redis down: ids are str(user)
                return None
            self._checks[name] = raw.decode() if isinstance(raw, bytes) else raw
        return self._checks[name]

    # -- writes: the database first (the truth), then hanoi's keys ------------------

    def _write(self, call: Callable[[], Any], name: str) -> Any:
        from django.core.exceptions import ValidationError

        from ..services import FlagNotFound

        token = _facade_writing.set(True)
        try:
            return call()
        except FlagNotFound:
            raise RolloutException(f"Feature <{name}> is not defined") from None
        except ValidationError as exc:
            detail = "; ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())
            raise ValueError(f"Feature <{name}>: {detail}") from None
        finally:
            _facade_writing.reset(token)

    def create(self, name: str, fields: dict[str, Any], check: str | None) -> None:
        from .. import services
        from ..models import Flag, Source

        metadata = {"hanoi": {"check": check}}

        def write() -> None:
            if Flag.objects.filter(key=name).exists():
                services.update_flag(name, {**fields, "metadata": metadata}, actor=ACTOR, source=Source.HANOI)
            else:
                services.create_flag(name, actor=ACTOR, source=Source.HANOI, metadata=metadata, **fields)
                self._redis(lambda pipe: pipe.delete(self.users_key(name), self.rule_key(name)))

        self._write(write, name)
        self._checks[name] = check
        self._redis(lambda pipe: pipe.hset(self.func_key(name), mapping={"check": check or ""}))

    def change(self, name: str, **fields: Any) -> None:
        from .. import services
        from ..models import Source

        self._write(lambda: services.update_flag(name, fields, actor=ACTOR, source=Source.HANOI), name)

    def toggle(self, name: str) -> None:
        from .. import services
        from ..models import Flag, Source

        def write() -> None:
            for _attempt in range(3):
                row = Flag.objects.filter(key=name).values("enabled", "version").first()
                if row is None:
                    raise services.FlagNotFound(name)
                try:
                    services.update_flag(
                        name,
                        {"enabled": not row["enabled"]},
                        expected_version=row["version"],
                        actor=ACTOR,
                        source=Source.HANOI,
                        action="toggle",
                    )
                    return
                except services.FlagConflict:
                    continue  # someone changed it meanwhile: toggle what is there now
            raise RolloutException(f"Feature <{name}> keeps changing; toggle again")

        self._write(write, name)

    def add_user(self, name: str, user_id: str) -> None:
        from .. import services
        from ..models import Source

        self._write(lambda: services.add_users(name, [user_id], actor=ACTOR, source=Source.HANOI), name)
        self._redis(lambda pipe: pipe.sadd(self.users_key(name), user_id))

    def remove_user(self, name: str, user_id: str) -> None:
        from .. import services
        from ..models import Source

        self._write(lambda: services.remove_users(name, [user_id], actor=ACTOR, source=Source.HANOI), name)
        self._redis(lambda pipe: pipe.srem(self.users_key(name), user_id))

    def set_rule(self, name: str, pattern: str | None) -> None:
        from .. import services
        from ..models import Source

        rules = [pattern] if pattern else []
        self._write(lambda: services.update_flag(name, {"rules": rules}, actor=ACTOR, source=Source.HANOI), name)
        if pattern:
            self._redis(lambda pipe: pipe.set(self.rule_key(name), pattern))
        else:
            self._redis(lambda pipe: pipe.delete(self.rule_key(name)))

    def remove(self, name: str) -> None:
        from .. import services
        from ..models import Source

        def remove_for_good() -> None:
            from django.db import transaction

            # hanoi's remove_func is for good (added again, it starts clean): archive, then purge.
            with transaction.atomic():
                services.delete_flag(name, actor=ACTOR, source=Source.HANOI)
                services.purge_flag(name, actor=ACTOR, source=Source.HANOI)

        self._write(remove_for_good, name)
        self._checks.pop(name, None)
        self._redis(lambda pipe: pipe.delete(self.users_key(name), self.rule_key(name), self.func_key(name)))

    def resync(self, names: Iterable[str]) -> None:
        """Rewrite hanoi's keys of these functions from the database (after changes made elsewhere)."""
        from ..models import Flag
        from ..serialization import user_ids

        for flag in Flag.objects.filter(key__in=list(names)).prefetch_related("rules"):
            if "hanoi" not in (flag.metadata or {}):
                continue  # not a function of the facade
            ids = list(user_ids(flag, excluded=False))
            patterns = [r.pattern for r in flag.rules.all()]

            def rewrite(pipe: Any, key: str = flag.key, ids: list[str] = ids, patterns: list[str] = patterns) -> None:
                pipe.delete(self.users_key(key))
                for start in range(0, len(ids), 10_000):
                    pipe.sadd(self.users_key(key), *ids[start : start + 10_000])
                if patterns:
                    pipe.set(self.rule_key(key), patterns[0])
                else:
                    pipe.delete(self.rule_key(key))

            self._redis(rewrite)

    def _redis(self, commands: Callable[[Any], Any]) -> None:
        """Run commands atomically (MULTI); a Redis outage is logged, the database write stands."""
        try:
            with self.client.pipeline(transaction=True) as pipe:
                commands(pipe)
                pipe.execute()
        except Exception as exc:
            import logging

            logging.getLogger("featureflags").warning(
                "featureflags: hanoi's Redis keys could not be written (%s); call resync() when Redis is back", exc
            )


class RedisHighPerfBackEnd(RedisBackEnd):
    """hanoi's faster Redis backend. Here both Redis backends check from memory (no round trip),
    so this is :class:`RedisBackEnd` under hanoi's other name."""


def _redis_client(source: Any) -> Any:
    import redis

    if source is None:
        try:
            from django_redis import get_redis_connection

            return get_redis_connection("default")
        except Exception:
            from ..store import connection

            return connection.new_client() if connection.configured() else redis.Redis()
    if isinstance(source, str):
        return redis.Redis.from_url(source)
    if isinstance(source, (tuple, list)):
        host, port = source[0], source[1]
        return redis.Redis(host=host, port=port, db=source[2] if len(source) >= 3 else 0)
    return source  # a redis-py client (or anything speaking its API)


def _resync_after_changes(sender: Any, keys: list[str], **kwargs: Any) -> None:
    """A flag changed by the dashboard, the API...: bring hanoi's Redis keys up to date."""
    if _facade_writing.get():
        return  # the facade keeps its keys itself
    for backend in list(_live_redis_backends):
        backend.resync(keys)


def _connect_signal() -> None:
    from ..signals import flag_changed

    flag_changed.connect(_resync_after_changes, dispatch_uid="featureflags.compat.hanoi.resync")


# -- the facade -----------------------------------------------------------------------


class Rollout:
    """hanoi's ``Rollout`` over the product's evaluator.

    >>> rollout = Rollout(MemoryBackEnd())
    >>> rollout.add_func("cdc_on", percentage=80)
    >>> rollout.is_enabled("cdc_on", "44488")
    False
    """

    def __init__(self, backend: Any = None, *, legacy_inverted_percentage: bool = False) -> None:
        if not isinstance(backend, _BackEnd):
            hint = " (wrap a Redis client: Rollout(RedisBackEnd(client)))" if hasattr(backend, "sadd") else ""
            raise TypeError(
                "Rollout needs a backend: MemoryBackEnd(), RedisBackEnd(...) or RedisHighPerfBackEnd(...), "
                f"not {backend!r}{hint}."
            )
        if isinstance(backend, RedisBackEnd):
            _connect_signal()
        self._backend = backend
        self.legacy_inverted_percentage = bool(legacy_inverted_percentage)
        self._current_id: ContextVar[str | None] = ContextVar(f"hanoi_current_id_{id(self)}", default=None)

    @property
    def backend(self) -> _BackEnd:
        return self._backend

    # -- functions ----------------------------------------------------------------

    def add_func(self, name: str, check: Any = None, percentage: Any = 0, variants: Any = None) -> None:
        """Create (or redefine) function ``name``: switched on, at ``percentage``; users and rule are kept
        when it exists, and start empty when it is new."""
        if isinstance(check, int) and not isinstance(check, bool) and percentage == 0:
            check, percentage = None, check  # hanoi's README calls add_func("cdc_on", 80)
        percentage = clean_percentage(percentage)
        if check is not None and not isinstance(check, str):
            raise ValueError(f"check names the attribute holding a user's id, not {check!r}.")
        names = list(variants) if variants else []
        fields = {
            "enabled": True,
            "percentage": percentage,
            "bucketing": "crc32_inv" if self.legacy_inverted_percentage else "crc32",
            "variants": [{"name": str(v), "weight": 1} for v in names],
        }
        self._backend.create(name, fields, check)

    def remove_func(self, name: str) -> None:
        """Delete function ``name`` (its users and rule with it)."""
        self._backend.remove(name)

    def get_functionalities(self) -> list[str]:
        return self._backend.get_functionalities()

    def enable(self, name: str) -> None:
        self._backend.change(name, enabled=True)

    def disable(self, name: str) -> None:
        self._backend.change(name, enabled=False)

    def toggle(self, name: str) -> None:
        self._backend.toggle(name)

    def set_percentage(self, name: str, percentage: Any) -> None:
        self._backend.change(name, percentage=clean_percentage(percentage))

    def register(self, name: str, user_or_regex: Any) -> None:
        """A compiled pattern becomes the rule (replacing the previous one); anything else adds a user."""
        if isinstance(user_or_regex, re.Pattern):
            self._backend.set_rule(name, rule_pattern(user_or_regex))
        else:
            self._backend.add_user(name, self._id_of(name, user_or_regex))

    def unregister(self, name: str, user_or_regex: Any) -> None:
        """Remove a user, or the rule (given a compiled pattern)."""
        if isinstance(user_or_regex, re.Pattern):
            self._backend.set_rule(name, None)
        else:
            self._backend.remove_user(name, self._id_of(name, user_or_regex))

    # -- checks -----------------------------------------------------------------------

    def is_enabled(self, name: str, user: Any = None) -> bool:
        """Unknown or off: False; no user: the switch; else users, rule, then the crc32 percentage."""
        context = None if user is None else Context(self._id_of(name, user))
        return bool(self._backend.is_enabled(name, context))

    def variant(self, name: str, user: Any = None) -> str | None:
        """``variants[crc32(id) % len(variants)]`` when enabled for ``user``; else None."""
        if user is None:
            user = self._current_id.get()
            if user is None:
                return None
        if not self.is_enabled(name, user):
            return None
        return self._backend.variant(name, Context(self._id_of(name, user)))

    def set_current_id(self, user: Any) -> None:
        """The id ``check`` uses without ``index``, for this thread or asyncio task only."""
        self._current_id.set(None if user is None else str(user))

    def cleanup_current_id(self) -> None:
        self._current_id.set(None)

    @property
    def current_id(self) -> str | None:
        return self._current_id.get()

    def check(self, name: str, index: int | None = None) -> Callable[[Callable], Callable]:
        """Decorator: run only when ``name`` is on for the ``index``-th argument (from 1; 0 is the last),
        or for the current id; else raise :class:`RolloutException`."""

        def verify(args: tuple) -> None:
            if not self._defined(name):
                raise RolloutException(f"Feature <{name}> is not defined")
            if index is not None:
                try:
                    user = args[index - 1] if index > 0 else args[-1]
                except IndexError:
                    raise RolloutException(f"Feature <{name}>: no argument {index} to check") from None
                user_id = None if user is None else self._id_of(name, user)
            else:
                user_id = self._current_id.get()
            if user_id is None:
                raise RolloutException("Identifier should be set before checking the functionality")
            if not self.is_enabled(name, user_id):
                raise RolloutException(f"Feature <{name}> is not enabled for user <{user_id}>")

        return _guard(verify)

    def enabled(self, name: str) -> Callable[[Callable], Callable]:
        """Decorator: run only when ``name``'s global switch is on."""

        def verify(args: tuple) -> None:
            if not self.is_enabled(name):
                raise RolloutException(f"Feature <{name}> is not enabled")

        return _guard(verify)

    # -- helpers ------------------------------------------------------------------------

    def _defined(self, name: str) -> bool:
        from .. import overrides

        return self._backend.exists(name) or (bool(overrides.active) and overrides.lookup(name) is not None)

    def _id_of(self, name: str, user: Any) -> str:
        """A user's id, always a string: ``user.<check>`` for objects when the function names one."""
        if isinstance(user, (str, int, bytes)):
            return user.decode() if isinstance(user, bytes) else str(user)
        check = self._backend.check_of(name)
        if check:
            try:
                value = getattr(user, check)
            except AttributeError:
                raise RolloutException(f"Feature <{name}>: {user!r} has no attribute {check!r}") from None
            return str(value() if callable(value) else value)
        return str(user)

    def __getattr__(self, attribute: str) -> Callable[..., bool]:
        # hanoi's rollout.is_<name>(user); anything else is a plain AttributeError (hasattr, copy work).
        if attribute.startswith("is_") and not attribute.startswith("__") and "_backend" in self.__dict__:
            name = attribute[3:]
            if self._defined(name):
                return functools.partial(self.is_enabled, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attribute!r}")


def _guard(verify: Callable[[tuple], None]) -> Callable[[Callable], Callable]:
    def decorator(func: Callable) -> Callable:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                verify(args)
                return await func(*args, **kwargs)

            return async_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            verify(args)
            return func(*args, **kwargs)

        return wrapper

    return decorator
