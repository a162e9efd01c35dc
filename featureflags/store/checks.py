"""W010: another deployment uses this Redis server under the same key prefix.

The mirror itself is safe (its keys and channel carry the deployment id), but the
counters kept under ``KEY_PREFIX`` (usage, guardrails, experiments) are not, and
an operator reading Redis would mix the two. Seen server-wide, whatever the
database number: pub/sub channels are shared by every database of a server.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core import checks

from ..conf import flag_settings
from . import changes, link
from .redis_mirror import registry_key

RECENT_SECONDS = 600


@checks.register(checks.Tags.caches, deploy=True)
def check_shared_redis(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if not link.configured():
        return []
    try:
        mine = changes.head().deployment
        others = foreign_deployments(mine)
    except Exception:  # the check must not fail the command: Redis or the database is down
        return []
    if not others:
        return []
    prefix = flag_settings.KEY_PREFIX
    return [
        checks.Warning(
            f"Another deployment ({', '.join(sorted(others))}) uses this Redis server with KEY_PREFIX {prefix!r}.",
            hint="Give each deployment (production, staging, ...) its own KEY_PREFIX, or its own Redis server.",
            id="featureflags.W010",
        )
    ]


def foreign_deployments(mine: str) -> set[str]:
    client = link.client()
    prefix = flag_settings.KEY_PREFIX
    found = set()
    for channel in client.pubsub_channels(f"{{{prefix}}}:*:changes"):
        name = channel.decode() if isinstance(channel, bytes) else channel
        found.add(name[len(prefix) + 3 : -len(":changes")])
    now = time.time()
    for deployment, raw in client.hgetall(registry_key(prefix)).items():
        try:
            seen = json.loads(raw).get("seen", 0)
        except ValueError:
            continue
        if now - seen < RECENT_SECONDS:
            found.add(deployment.decode())
    return found - {mine}
