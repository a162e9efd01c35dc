"""What the flags add to a whole Django request, in-process: the load view (10 checks,
``benchmarks/load_urls.py``) through the demo site's middleware stack, against the
same page without the checks and without the flags middleware.

    python -m benchmarks.request_cost [--quick]

No gunicorn, no wrk, no sockets: Django's WSGI handler called directly, so the
figure is the flags' own CPU per request, steadier than ``benchmarks.load``. Uses a
temporary SQLite file and the in-process mirror (no Redis).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time

ROUNDS = 5


def environ(path: str, cookie: str) -> dict:
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
    }
    if cookie:
        env["HTTP_COOKIE"] = cookie
    return env


def per_request_us(handler, path: str, cookie: str, number: int) -> float:
    """Best of ``ROUNDS`` runs of ``number`` requests, in µs per request."""

    def start_response(status, headers):
        if not status.startswith("200"):
            raise RuntimeError(f"{path} answered {status}")

    for _ in range(200):
        b"".join(handler(environ(path, cookie), start_response))
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(number):
            b"".join(handler(environ(path, cookie), start_response))
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    args = parser.parse_args()
    number = 500 if args.quick else 3000
    directory = tempfile.mkdtemp(prefix="ff-request-cost-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="benchmarks.load_settings",
        LOAD_DATABASE=os.path.join(directory, "db.sqlite3"),
        LOAD_REDIS_URL="",
        LOAD_FEATUREFLAGS='{"REDIS_URL": null, "SYNC_THREAD": false}',
    )
    from benchmarks.load import create_flags

    create_flags()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    import featureflags
    from featureflags.conf import flag_settings
    from featureflags.context import signed_anonymous_id

    featureflags.warm_up()
    with_flags = WSGIHandler()
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if not m.startswith("featureflags.")]):
        plain = WSGIHandler()
    name = flag_settings.ANONYMOUS_COOKIE
    returning = f"{name}={signed_anonymous_id(name, 'loadvisitor')}"
    print(f"Django's WSGI handler, demo site middleware; best of {ROUNDS} x {number} requests")
    print(f"{'visitor':34} {'plain µs':>9} {'flags µs':>9} {'extra µs':>9} {'ratio':>6}")
    for label, cookie in (("returning (signed cookie)", returning), ("new (no cookie, is given one)", "")):
        base = per_request_us(plain, "/plain/", cookie, number)
        flagged = per_request_us(with_flags, "/flags/", cookie, number)
        print(f"{label:34} {base:9.1f} {flagged:9.1f} {flagged - base:9.1f} {base / flagged:6.3f}")


if __name__ == "__main__":
    main()
