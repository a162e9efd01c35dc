"""The flags as kept in Redis: a cache of the database's change log, for one deployment.

Every key is hash-tagged ``{P}`` (``P`` = ``KEY_PREFIX``), so the mirror works on
Redis Cluster (one slot) as on one server or Sentinel, and carries the
deployment id ``D`` (a random id made in the database), so deployments sharing
a server, a database number and a prefix never read each other's data:

- ``{P}:D:head``: ``"<version> <token>"``; Redis holds every change up to it;
- ``{P}:D:defs``: hash, flag key -> definition JSON (small user lists inline);
- ``{P}:D:pending``: changes published out of order, applied once the gap closes;
- ``{P}:D:ids:<sha1>``: a large user list in its compact form (content-addressed);
- ``{P}:deployments``: hash, deployment id -> when it was last seen (the W010 check);
- channel ``{P}:D:changes``: ``"<from> <to> <token> key -deleted_key ..."``, or ``"reset <to> <token>"``.

Nothing here reads the database: definitions arrive as JSON from ``publishing``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..engine.idset import IdSet, id_set_from_bytes

EMPTY = -2  # the publish script's answer when Redis holds nothing (restarted empty, flushed)
OLD_BLOB_TTL = 600

# Changes are applied strictly in the database's order: a change whose predecessor
# has not arrived waits in ``pending``; a change already covered is dropped.
_PUBLISH = """
local mode = ARGV[1]
local from = tonumber(ARGV[2])
local to = tonumber(ARGV[3])
local token = ARGV[4]
local channel = ARGV[5]
local n = tonumber(ARGV[6])
local kp = {}
for i = 1, n * 2 do kp[i] = ARGV[6 + i] end
local names = {}
local function apply(pairs_)
  for i = 1, #pairs_, 2 do
    if pairs_[i + 1] == '' then
      redis.call('HDEL', KEYS[2], pairs_[i])
      names[#names + 1] = '-' .. pairs_[i]
    else
      redis.call('HSET', KEYS[2], pairs_[i], pairs_[i + 1])
      names[#names + 1] = pairs_[i]
    end
  end
end
if mode == 'all' then
  redis.call('DEL', KEYS[2], KEYS[3])
  apply(kp)
  redis.call('SET', KEYS[1], to .. ' ' .. token)
  redis.call('PUBLISH', channel, 'reset ' .. to .. ' ' .. token)
  return to
end
local raw = redis.call('GET', KEYS[1])
if not raw then return -2 end
local current = tonumber(string.match(raw, '^(%d+)'))
if to <= current then return current end
if from > current then
  redis.call('HSET', KEYS[3], from, cjson.encode({to = to, token = token, kp = kp}))
  redis.call('EXPIRE', KEYS[3], 300)
  return current
end
apply(kp)
local new, new_token = to, token
while true do
  local waiting = redis.call('HGET', KEYS[3], new)
  if not waiting then break end
  redis.call('HDEL', KEYS[3], new)
  local entry = cjson.decode(waiting)
  apply(entry.kp)
  new, new_token = entry.to, entry.token
end
redis.call('SET', KEYS[1], new .. ' ' .. new_token)
redis.call('PUBLISH', channel, current .. ' ' .. new .. ' ' .. new_token .. ' ' .. table.concat(names, ' '))
return new
"""

# One round trip, atomic, and valid on a cluster (no MULTI across nodes needed).
_READ = """
local head = redis.call('GET', KEYS[1])
if #ARGV == 0 then return {head, redis.call('HGETALL', KEYS[2])} end
return {head, redis.call('HMGET', KEYS[2], unpack(ARGV))}
"""


class RedisMirror:
    """One deployment's flags in Redis."""

    def __init__(self, client: Any, prefix: str, deployment: str, bulk_client: Any = None) -> None:
        self.client = client
        self.bulk_client = bulk_client or client  # longer read timeout: every flag at once
        self.prefix = prefix
        self.deployment = deployment
        base = f"{{{prefix}}}:{deployment}"
        self.head_key = f"{base}:head"
        self.defs_key = f"{base}:defs"
        self.pending_key = f"{base}:pending"
        self.lock_key = f"{base}:resync-lock"
        self.channel = f"{base}:changes"
        self.registry_key = registry_key(prefix)
        self._publish = client.register_script(_PUBLISH)
        self._read = client.register_script(_READ)
        self._publish_all = self.bulk_client.register_script(_PUBLISH)
        self._read_all = self.bulk_client.register_script(_READ)

    # -- writing --------------------------------------------------------------

    def publish(self, first: int, last: int, token: str, payloads: dict[str, str | None], full: bool = False) -> int:
        """Make Redis hold the changes after version ``first`` up to ``last`` (their definitions'
        JSON, None for a deletion); ``full`` replaces everything. Returns Redis's head afterwards,
        or :data:`EMPTY` when Redis holds nothing and a partial publish would hide the other flags."""
        args: list[Any] = ["all" if full else "partial", first, last, token, self.channel, len(payloads)]
        for key, payload in payloads.items():
            args.extend((key, payload or ""))
        script = self._publish_all if full or len(payloads) > 1000 else self._publish
        return int(script(keys=[self.head_key, self.defs_key, self.pending_key], args=args))

    def blob_key(self, digest: str) -> str:
        return f"{{{self.prefix}}}:{self.deployment}:ids:{digest}"

    def upload_blob(self, blob_key: str, data: bytes) -> None:
        if not self.client.exists(blob_key):
            self.client.set(blob_key, data)

    def retire_blobs(self, blob_keys: list[str]) -> None:
        for blob_key in blob_keys:
            self.client.expire(blob_key, OLD_BLOB_TTL)

    def try_lock_resync(self, seconds: float) -> bool:
        return bool(self.client.set(self.lock_key, "1", nx=True, px=max(100, int(seconds * 1000))))

    def register(self, database: str) -> None:
        """Say this deployment uses this server and prefix (read by the W010 check)."""
        self.client.hset(self.registry_key, self.deployment, json.dumps({"seen": time.time(), "database": database}))

    # -- reading --------------------------------------------------------------

    def head(self) -> tuple[int, str] | None:
        """(version, token) Redis holds every change up to, or None when it holds nothing."""
        return parse_head(self.client.get(self.head_key))

    def read_all(self) -> tuple[tuple[int, str] | None, dict[str, str]]:
        raw_head, flat = self._read_all(keys=[self.head_key, self.defs_key], args=[])
        defs = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
        return parse_head(raw_head), defs

    def read(self, keys: list[str]) -> tuple[tuple[int, str] | None, dict[str, str | None]]:
        if not keys:
            return self.head(), {}
        raw_head, values = self._read(keys=[self.head_key, self.defs_key], args=keys)
        return parse_head(raw_head), {k: (v.decode() if v is not None else None) for k, v in zip(keys, values)}

    def previous_blobs(self, keys: list[str]) -> dict[str, set[str]]:
        """key -> the blobs its definition in Redis refers to now."""
        if not keys:
            return {}
        out: dict[str, set[str]] = {}
        for key, raw in zip(keys, self.client.hmget(self.defs_key, keys)):
            if raw:
                out[key] = blob_refs(raw)
        return out

    def load_blob(self, blob_key: str) -> IdSet:
        data = self.client.get(blob_key)
        if data is None:
            raise LookupError(f"{blob_key} is missing from Redis")
        return id_set_from_bytes(data)


def registry_key(prefix: str) -> str:
    return f"{{{prefix}}}:deployments"


def parse_head(raw: bytes | str | None) -> tuple[int, str] | None:
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else raw
    version, _, token = text.partition(" ")
    return int(version), token


def blob_refs(payload: str) -> set[str]:
    try:
        definition = json.loads(payload)
    except ValueError:
        return set()
    return {v["blob"] for v in (definition.get("users"), definition.get("excluded_users")) if isinstance(v, dict)}
