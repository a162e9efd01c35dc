"""The flags as kept in Redis, shared by every process.

Layout, under the prefix ``P``:

- ``P:version``: the highest mirror version published (the database's counter);
- ``P:defs``: hash, flag key -> definition JSON (small user lists inline);
- ``P:revs``: hash, flag key -> mirror version of the definition (kept for deletions,
  so a late publisher can never put back older data);
- ``P:ids:<key>:<field>:<users_version>``: a large user list in its compact form;
- channel ``P:changes``: ``<version> <key> <key> ...`` after each publish.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from ..engine.idset import COMPACT_THRESHOLD, IdSet, id_set_from_bytes, id_set_to_bytes
from ..models import FlagUser
from . import database

logger = logging.getLogger("featureflags.mirror")

LIST_FIELDS = ("users", "excluded_users")
OLD_BLOB_TTL = 600
EMPTY_REDIS = -2  # the publish script's answer to a partial publish into an empty Redis

# Writes each definition only if it is not older than what Redis holds, raises
# the version, and announces, all atomically.
_PUBLISH = """
local version = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
if ARGV[4 + count * 2] == 'partial' and redis.call('EXISTS', KEYS[3]) == 0 then
  return -2
end
for i = 0, count - 1 do
  local key = ARGV[4 + i * 2]
  local payload = ARGV[5 + i * 2]
  local rev = tonumber(redis.call('HGET', KEYS[2], key) or '-1')
  if rev <= version then
    if payload == '' then
      redis.call('HDEL', KEYS[1], key)
    else
      redis.call('HSET', KEYS[1], key, payload)
    end
    redis.call('HSET', KEYS[2], key, version)
  end
end
local current = tonumber(redis.call('GET', KEYS[3]) or '-1')
if version > current then
  redis.call('SET', KEYS[3], version)
end
redis.call('PUBLISH', KEYS[4], ARGV[3])
return current
"""


class RedisMirror:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.version_key = f"{prefix}:version"
        self.defs_key = f"{prefix}:defs"
        self.revs_key = f"{prefix}:revs"
        self.channel = f"{prefix}:changes"
        self.lock_key = f"{prefix}:resync-lock"
        self._publish_script = client.register_script(_PUBLISH)

    # -- writing --------------------------------------------------------------

    def publish(self, keys: list[str] | None) -> tuple[int, dict[str, str | None]]:
        """Publish these flags (None: all, removing what the database no longer has).

        Returns the version and the definitions' JSON as published (None for a deletion).
        """
        version = database.current_version()  # read before the flags: data is never older than its tag
        found = {flag.key: flag for flag in database.flags(keys)}
        wanted = list(found) if keys is None else keys
        previous = self._previous_definitions(wanted)
        payloads: dict[str, str] = {}
        stale_blobs: list[str] = []
        for key in wanted:
            flag = found.get(key)
            if flag is None:
                payloads[key] = ""
                continue
            definition = database.rule_definition(flag)
            for field in LIST_FIELDS:
                definition[field] = self._list_payload(flag, field, previous.get(key), stale_blobs)
            payloads[key] = json.dumps(definition, separators=(",", ":"), sort_keys=True)
        if keys is None:
            for gone in set(self.client.hkeys(self.defs_key)) - {k.encode() for k in found}:
                payloads[gone.decode()] = ""
        args: list[Any] = [version, len(payloads), " ".join([str(version), *payloads])]
        for key, payload in payloads.items():
            args.extend((key, payload))
        args.append("partial" if keys is not None else "all")
        script_keys = [self.defs_key, self.revs_key, self.version_key, self.channel]
        if self._publish_script(keys=script_keys, args=args) == EMPTY_REDIS:
            # Redis restarted empty: a few flags alone would hide every other one from readers.
            return self.publish(None)
        for blob in stale_blobs:
            self.client.expire(blob, OLD_BLOB_TTL)
        return version, {key: (payload or None) for key, payload in payloads.items()}

    def _previous_definitions(self, keys: list[str]) -> dict[str, dict]:
        if not keys:
            return {}
        raw = self.client.hmget(self.defs_key, keys)
        return {k: json.loads(v) for k, v in zip(keys, raw) if v}

    def _list_payload(self, flag, field: str, previous: dict | None, stale_blobs: list[str]) -> Any:
        """A small list inline, else a reference to its compact blob (uploaded if missing)."""
        if previous and previous.get("users_version") == flag.users_version and field in previous:
            return previous[field]  # the lists did not change: no need to read them again
        excluded = field == "excluded_users"
        ids = list(
            FlagUser.objects.filter(flag=flag, excluded=excluded).values_list("user_id", flat=True)[
                : COMPACT_THRESHOLD + 1
            ]
        )
        old_ref = (previous or {}).get(field)
        if len(ids) <= COMPACT_THRESHOLD:
            payload: Any = sorted(ids)
        else:
            payload = {"blob": self.blob_key(flag.key, field, flag.users_version)}
            if not self.client.exists(payload["blob"]):
                self.client.set(payload["blob"], id_set_to_bytes(database.load_id_set(flag, field)))
        if isinstance(old_ref, dict) and old_ref != payload:
            stale_blobs.append(old_ref["blob"])
        return payload

    def blob_key(self, key: str, field: str, users_version: int) -> str:
        return f"{self.prefix}:ids:{key}:{field}:{users_version}"

    # -- reading --------------------------------------------------------------

    def version(self) -> int | None:
        """The published version, or None when Redis holds nothing (restarted or new)."""
        raw = self.client.get(self.version_key)
        return None if raw is None else int(raw)

    def read_all(self) -> tuple[int | None, dict[str, str]]:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.get(self.version_key)
            pipe.hgetall(self.defs_key)
            raw_version, defs = pipe.execute()
        version = None if raw_version is None else int(raw_version)
        return version, {k.decode(): v.decode() for k, v in defs.items()}

    def read(self, keys: list[str]) -> dict[str, str | None]:
        raw = self.client.hmget(self.defs_key, keys) if keys else []
        return {k: (v.decode() if v is not None else None) for k, v in zip(keys, raw)}

    def load_blob(self, blob_key: str) -> IdSet:
        data = self.client.get(blob_key)
        if data is None:
            raise LookupError(f"{blob_key} is missing from Redis")
        return id_set_from_bytes(data)

    def try_lock_resync(self, seconds: int = 30) -> bool:
        return bool(self.client.set(self.lock_key, "1", nx=True, ex=seconds))
