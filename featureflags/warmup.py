"""Load the flags before the first request: ``featureflags.warm_up()``.

Call it once the WSGI/ASGI application exists (``config/wsgi.py`` does). Under
``gunicorn --preload`` the master loads the snapshot and every forked worker
inherits it (the store restarts the sync thread in each child), so no worker's
first requests pay for loading the flags.

    application = get_wsgi_application()
    featureflags.warm_up()
"""

from __future__ import annotations

import logging

from django.db import connections

logger = logging.getLogger("featureflags")


def warm_up() -> bool:
    """Load the snapshot now and start its sync thread; True when flags were loaded.

    Never raises: with the database or Redis down the flags stay off (the empty
    snapshot a first check would get) and the sync thread keeps trying.

    >>> featureflags.warm_up()
    True
    """
    from .store import runtime

    try:
        snapshot = runtime.current()
    except Exception:  # an outage must not stop the server from starting
        logger.warning("featureflags: warm_up could not load the flags", exc_info=True)
        return False
    finally:
        # A connection opened here would be shared by every forked worker: each opens its own.
        connections.close_all()
    return snapshot.version >= 0
