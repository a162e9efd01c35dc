"""What the load views must answer, computed apart from the request path they time.

    python -m benchmarks.load_answers URL [COOKIE_HEADER]   # asks URL three times, checks each answer

The expected page is computed from a plain mapping context (no middleware, no request),
so a benchmark that compares it with the page it timed catches a request path that
answers fast but wrong.
"""

from __future__ import annotations

import sys

ANONYMOUS_VISITOR = {"is_authenticated": False, "is_staff": False, "is_superuser": False, "user_agent": ""}


def expected_page(anonymous_id: str) -> str:
    """The page ``/flags/`` serves an anonymous visitor known by ``anonymous_id`` (from 127.0.0.1)."""
    import featureflags
    from benchmarks.load_urls import FLAG_KEYS, PAGE

    who = {**ANONYMOUS_VISITOR, "anonymous_id": anonymous_id, "ip": "127.0.0.1"}
    return PAGE.format("".join(f"<li>{key}: {featureflags.is_enabled(key, who)}</li>" for key in FLAG_KEYS))


def plain_page() -> str:
    from benchmarks.load_urls import FLAG_KEYS, PAGE

    return PAGE.format("".join(f"<li>{key}: {False}</li>" for key in FLAG_KEYS))


def anonymous_id_of(cookie_value: str) -> str:
    """The anonymous id a signed cookie value carries; raises when the signature is wrong."""
    from django.http import HttpRequest

    from featureflags.conf import flag_settings
    from featureflags.context import ANONYMOUS_COOKIE_SALT

    name = flag_settings.ANONYMOUS_COOKIE
    request = HttpRequest()  # Django's own reading of a signed cookie, whatever its version's salt
    request.COOKIES[name] = cookie_value
    return request.get_signed_cookie(name, salt=ANONYMOUS_COOKIE_SALT)


def check_page(path: str, page: str, set_cookie: str | None, returning_id: str | None) -> None:
    """Stop the run when ``page`` (and the cookie it came with) is not the right answer.

    ``returning_id``: the id of the visitor's cookie; None for a new visitor, who must be
    given one (the load flags hash the anonymous id)."""
    if path.startswith("/plain/"):
        if page != plain_page():
            raise SystemExit(f"{path} served a wrong page: {page!r}")
        return
    if returning_id is None:
        if set_cookie is None:
            raise SystemExit(f"{path}: a new visitor was not given the anonymous-id cookie")
        anonymous_id = anonymous_id_of(set_cookie)
    else:
        if set_cookie is not None:
            raise SystemExit(f"{path}: a returning visitor was given a new cookie")
        anonymous_id = returning_id
    wanted = expected_page(anonymous_id)
    if page != wanted:
        raise SystemExit(f"{path} answered wrong for {anonymous_id!r}:\n{page}\nwanted:\n{wanted}")


def probe_url(url: str, cookie: str) -> None:
    """Ask a running server ``url`` three times (sending ``cookie``) and check each answer."""
    import urllib.request
    from http.cookies import SimpleCookie

    from featureflags.conf import flag_settings

    name = flag_settings.ANONYMOUS_COOKIE
    sent = SimpleCookie(cookie)
    returning_id = anonymous_id_of(sent[name].value) if name in sent else None
    path = urllib.request.urlparse(url).path
    for _ in range(3):
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=10) as answer:
            page = answer.read().decode()
            given = SimpleCookie("; ".join(h.split(";", 1)[0] for h in answer.headers.get_all("Set-Cookie") or []))
            vary = answer.headers.get("Vary") or ""
        check_page(path, page, given[name].value if name in given else None, returning_id)
        if path.startswith("/flags/") and "Cookie" not in vary:
            raise SystemExit(f"{path}: a page that depends on the visitor lacks Vary: Cookie")


if __name__ == "__main__":
    from benchmarks._django import setup

    setup()
    probe_url(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
