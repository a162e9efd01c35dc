"""What the flags add to a whole Django request, in-process: the load view (10 checks,
``benchmarks/load_urls.py``) through the demo site's middleware stack, against the
same page without the checks and without the flags middleware.

    python -m benchmarks.request_cost [--quick]

Every case is probed first: the page must carry the decisions computed apart (see
``benchmarks/load_answers.py``), a new visitor must get the cookie and a returning one
not, and the page must say ``Vary: Cookie``; a wrong answer stops the run.

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

ROUNDS = 40
COOKIE_NAME = "featureflags_aid"  # checked against the setting in main()


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


def call(handler, path: str, cookie: str) -> tuple[str, str | None, str | None]:
    """One request: its page, the anonymous-id cookie it set (None: none) and its Vary header."""
    answer: dict = {}

    def start_response(status, headers):
        if not status.startswith("200"):
            raise RuntimeError(f"{path} answered {status}")
        answer["headers"] = headers

    page = b"".join(handler(environ(path, cookie), start_response)).decode()
    set_cookie = vary = None
    for name, value in answer["headers"]:
        value = value.strip()
        if name == "Set-Cookie" and value.startswith(COOKIE_NAME + "="):
            set_cookie = value.split(";", 1)[0].split("=", 1)[1].strip('"')
        elif name == "Vary":
            vary = value
    return page, set_cookie, vary


def probe(handler, path: str, cookie: str, returning_id: str | None) -> None:
    """The page (and cookie, and Vary) must be right before it is timed: a wrong answer stops the run."""
    from benchmarks.load_answers import check_page

    for _ in range(3):  # three new visitors, or the same returning one three times
        page, set_cookie, vary = call(handler, path, cookie)
        check_page(path, page, set_cookie, returning_id)
        if path.startswith("/flags/") and "Cookie" not in (vary or ""):
            raise SystemExit(f"{path}: a page that depends on the visitor lacks Vary: Cookie")


def timed(handler, path: str, cookie: str, number: int) -> float:
    """µs per request over ``number`` requests."""

    def start_response(status, headers):
        pass  # the probe checked the answers

    start = time.perf_counter()
    for _ in range(number):
        b"".join(handler(environ(path, cookie), start_response))
    return (time.perf_counter() - start) / number * 1e6


def per_request_us(plain, flagged, cookie: str, number: int, rounds: int) -> tuple[float, float]:
    """Best of ``rounds`` batches of each view, alternating (the machine's load hits both alike)."""
    for _ in range(200):
        call(plain, "/plain/", cookie)
        call(flagged, "/flags/", cookie)
    best = {"plain": float("inf"), "flags": float("inf")}
    for number_of_round in range(rounds):
        order = (("plain", plain), ("flags", flagged))
        for side, handler in order if number_of_round % 2 == 0 else order[::-1]:
            best[side] = min(best[side], timed(handler, f"/{side}/", cookie, number))
    return best["plain"], best["flags"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    args = parser.parse_args()
    number, rounds = (100, 5) if args.quick else (100, ROUNDS)
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
    if name != COOKIE_NAME:
        raise SystemExit(f"the benchmark expects the anonymous cookie {COOKIE_NAME!r}, not {name!r}")
    returning = f"{name}={signed_anonymous_id(name, 'loadvisitor')}"
    cases = (("returning (signed cookie)", returning, "loadvisitor"), ("new (no cookie, is given one)", "", None))
    for _label, cookie, returning_id in cases:
        probe(plain, "/plain/", cookie, returning_id)
        probe(with_flags, "/flags/", cookie, returning_id)
    print(f"Django's WSGI handler, demo site middleware; answers probed; best of {rounds} x {number} requests")
    print("(plain and flags batches alternate)")
    print(f"{'visitor':34} {'plain µs':>9} {'flags µs':>9} {'extra µs':>9} {'ratio':>6} {'target':>14}")
    for (label, cookie, _id), limit in zip(cases, (10.0, 15.0)):
        base, flagged = per_request_us(plain, with_flags, cookie, number, rounds)
        extra = flagged - base
        verdict = f"<= {limit:g} µs " + ("met" if extra <= limit else "NOT met")
        print(f"{label:34} {base:9.1f} {flagged:9.1f} {extra:9.1f} {base / flagged:6.3f} {verdict:>14}")


if __name__ == "__main__":
    main()
