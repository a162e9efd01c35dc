"""Contexts from whatever the caller has: a request, a user, an id, a mapping or a Context."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar, copy_context
from typing import Any

from django.core import signing
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.utils.functional import LazyObject, empty

from .conf import flag_settings
from .engine import Context
from .store import runtime

# The context of the request or job being handled (set by the middleware).
current_context: ContextVar[Context | None] = ContextVar("featureflags_context", default=None)

_SPECIAL = ("user_id", "anonymous_id", "environment")
ANONYMOUS_COOKIE_SALT = "featureflags.anonymous_id"
logger = logging.getLogger("featureflags")


def build_context(
    who: Any = None, environment: str | None = None, attributes: Mapping[str, Any] | None = None
) -> Context | None:
    """The context for ``who``; None (the global question) when nothing at all is given."""
    if isinstance(who, HttpRequest) and not attributes and environment is None:
        return context_from_request(who)  # is_enabled(key, request): the middleware's context, no other test
    if who is None and not attributes and environment is None:
        return None
    if isinstance(who, Context):
        context = who
    elif who is None:
        context = Context()
    elif isinstance(who, (str, int)):
        context = Context(user_id=who)
    elif isinstance(who, Mapping):
        context = Context(
            user_id=who.get("user_id"),
            anonymous_id=who.get("anonymous_id"),
            environment=who.get("environment"),
            attributes={k: v for k, v in who.items() if k not in _SPECIAL},
        )
    elif hasattr(who, "META") and hasattr(who, "method"):
        context = context_from_request(who)
    elif hasattr(who, "is_authenticated"):
        context = context_from_user(who)
    else:
        context = Context(user_id=who)
    if attributes:
        context = context.replace(attributes={**context.attributes, **attributes})
    if environment is not None:
        context = context.replace(environment=environment)
    return context


def user_id_of(user: Any) -> str | None:
    """The id flags know a Django user by (``USER_ID_ATTRIBUTE``); None when anonymous."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    attribute = request_setting("USER_ID_ATTRIBUTE")
    if callable(attribute):
        value = attribute(user)
    elif "." in attribute:
        from .conf import import_string

        value = import_string(attribute, "USER_ID_ATTRIBUTE")(user)
    else:
        value = getattr(user, attribute, None)
    return None if value is None else str(value)


def context_from_user(user: Any) -> Context:
    """A user's context: its id (``USER_ID_ATTRIBUTE``) and ``is_authenticated``/``is_staff``/``is_superuser``;
    ``groups`` too when a flag's constraint names them.

    >>> context_from_user(request.user).attributes["is_staff"]
    """
    return Context(user_id=user_id_of(user), attributes=user_attributes(user))


def user_attributes(user: Any) -> dict[str, Any]:
    attributes = {
        "is_authenticated": bool(getattr(user, "is_authenticated", False)),
        "is_staff": bool(getattr(user, "is_staff", False)),
        "is_superuser": bool(getattr(user, "is_superuser", False)),
    }
    if "groups" in constrained_attributes():
        attributes["groups"] = group_names(user)
    return attributes


def group_names(user: Any) -> list[str]:
    """The names of the user's groups (one query); [] when anonymous or without groups."""
    if not getattr(user, "is_authenticated", False) or not hasattr(user, "groups"):
        return []
    try:
        return sorted(user.groups.values_list("name", flat=True))
    except Exception:  # the database is down: constraints on groups fail closed
        logger.warning("featureflags: cannot read the groups of %r", user, exc_info=True)
        return []


_constrained: tuple[Any, frozenset[str]] = (None, frozenset())


def constrained_attributes() -> frozenset[str]:
    """Attribute names that some rule, segment or stickiness setting reads, computed once per snapshot."""
    global _constrained
    snapshot = runtime.current()
    cached_for, names = _constrained
    if cached_for is snapshot:
        return names
    names = snapshot.constrained_attributes()  # rules' and segments' constraints too (version 2)
    _constrained = (snapshot, names)
    return names


def context_from_request(request: Any) -> Context:
    """A request's context: the one the middleware made, else one from its user and cookie.

    >>> context_from_request(request).user_id
    '42'
    """
    cached = getattr(request, "_featureflags_context", None)
    if cached is not None:
        return cached
    context = _request_context(request)
    try:
        request._featureflags_context = context
    except AttributeError:
        pass
    return context


def _request_context(request: Any) -> Context:
    """A request's whole context at once, without a new anonymous id (nobody would set its cookie)."""
    user = _read_user(request)
    return Context(
        user_id=user[0], anonymous_id=read_anonymous_id(request), attributes=_request_attributes(request, user)
    )


def _request_user(request: Any) -> Any:
    """``request.user`` unwrapped (each read through its lazy proxy costs a call), loaded only if needed."""
    user = getattr(request, "user", None)
    if not isinstance(user, LazyObject):
        return user
    wrapped = object.__getattribute__(user, "_wrapped")  # past LazyObject's Python-level __getattribute__
    if wrapped is empty:
        if _nobody_logged_in(request, user):
            return _NOBODY
        user._setup()
        wrapped = object.__getattribute__(user, "_wrapped")
    return wrapped


def _nobody_logged_in(request: Any, user: LazyObject) -> bool:
    """True when Django's AuthenticationMiddleware could only find AnonymousUser: its lazy user is
    untouched and the request has no session (no key). Loading it would cost more than the flags."""
    setup = object.__getattribute__(user, "__dict__").get("_setupfunc")
    if getattr(setup, "__module__", None) != "django.contrib.auth.middleware":
        return False  # another middleware's user: it may know someone without a session
    session = request.__dict__.get("session")
    return session is not None and getattr(session, "session_key", True) is None


class _Nobody:
    """What flags read of Django's AnonymousUser, without importing the auth models."""

    is_authenticated = is_staff = is_superuser = False


_NOBODY = _Nobody()


def request_setting(name: str) -> Any:
    """``flag_settings.<name>`` for the request path, kept until ``FEATUREFLAGS`` changes
    (a read through FlagSettings costs about a microsecond; a request reads several)."""
    try:
        return _request_settings[name]
    except KeyError:
        value = _request_settings[name] = getattr(flag_settings, name)
        return value


_request_settings: dict[str, Any] = {}


def read_anonymous_id(request: Any) -> str | None:
    """The visitor's anonymous id from its signed cookie; None when absent or tampered with."""
    cookie = request_setting("ANONYMOUS_COOKIE")
    raw = getattr(request, "COOKIES", {}).get(cookie) if cookie else None
    if raw is None:
        return None
    verified = _verified_cookies.get(raw)
    if verified is not None:
        return verified
    try:
        value = request.get_signed_cookie(cookie, default=None, salt=ANONYMOUS_COOKIE_SALT)
    except Exception:
        return None
    if value is not None:
        if len(_verified_cookies) >= VERIFIED_COOKIES_KEPT:
            _verified_cookies.clear()
        _verified_cookies[raw] = value
    return value


# Checking a signature costs tens of µs: returning visitors' cookies are checked once per process.
VERIFIED_COOKIES_KEPT = 10_000
_verified_cookies: dict[str, str] = {}


def signed_anonymous_id(cookie: str, anonymous_id: str) -> str:
    """The cookie value for a new visitor's id, as ``response.set_signed_cookie`` makes it.

    >>> response.set_cookie(cookie, signed_anonymous_id(cookie, "0123abcd"))
    """
    signer = _cookie_signers.get(cookie)
    if signer is None:  # building a signer derives its key: once per process, not per new visitor
        signer = _cookie_signers[cookie] = signing.get_cookie_signer(salt=cookie + ANONYMOUS_COOKIE_SALT)
    return signer.sign(anonymous_id)


_cookie_signers: dict[str, signing.Signer] = {}


def _forget_verified_cookies(*, setting: str, **kwargs: Any) -> None:
    if setting in ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "SIGNING_BACKEND", "FEATUREFLAGS"):
        _verified_cookies.clear()
        _cookie_signers.clear()
        _request_settings.clear()


setting_changed.connect(_forget_verified_cookies)


def _accepted_language(meta: Mapping[str, Any]) -> str | None:
    header = meta.get("HTTP_ACCEPT_LANGUAGE", "")
    first = header.split(",", 1)[0].split(";", 1)[0].strip()
    return first or None


def _off_the_loop(build: Any, request: Any, *args: Any) -> Any:
    """``build(request)``; inside an event loop (an async view), in a worker thread, because
    reading ``request.user`` may query the database, which Django forbids in async code."""
    if asyncio._get_running_loop() is None:  # the usual sync request; get_running_loop() would raise
        return build(request, *args)
    if getattr(request, "_cached_user", None) is not None and request_setting("CONTEXT") is None:
        return build(request, *args)  # the user is loaded already: no query
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="featureflags-context") as pool:
        return pool.submit(copy_context().run, build, request, *args).result()


def _read_user(request: Any) -> tuple[str | None, dict[str, Any]]:
    """The request's user id and user attributes; anonymous when ``request.user`` cannot be read."""
    try:
        user = _request_user(request)
        if user is None:
            return None, {"is_authenticated": False}
        return user_id_of(user), user_attributes(user)
    except Exception:  # e.g. the session store is down: the visitor is treated as anonymous
        logger.warning("featureflags: cannot read request.user", exc_info=True)
        return None, {"is_authenticated": False}


def _request_attributes(request: Any, user: tuple[str | None, dict[str, Any]]) -> dict[str, Any]:
    attributes = dict(user[1])
    meta = request.META
    attributes["ip"] = meta.get("REMOTE_ADDR")
    attributes["user_agent"] = meta.get("HTTP_USER_AGENT", "")
    attributes["language"] = getattr(request, "LANGUAGE_CODE", None) or _accepted_language(meta)
    hook = request_setting("CONTEXT")
    if hook is not None:
        try:
            attributes.update(hook(request) or {})
        except Exception:
            logger.exception("featureflags: the CONTEXT hook failed")
    return attributes


_LAZY_PARTS = frozenset(("user_id", "anonymous_id", "attributes"))


class RequestContext(Context):
    """A request's context, each part built on first use: a check reads ``request.user`` only
    when it needs the user id, the headers and the ``CONTEXT`` hook only when it needs an
    attribute, and the cookie only when it hashes the anonymous id. A new visitor is given
    an anonymous id (and, by the middleware, its cookie) only when a check reads it.

    >>> RequestContext(request).user_id  # reads request.user now, once
    """

    __slots__ = ("_origin", "_read", "_request", "_user")

    def __init__(self, request: Any) -> None:  # user_id, anonymous_id and attributes stay unset until read
        self._request = request
        self._origin: RequestContext | None = None  # the context this one was replaced from
        self._user: tuple[str | None, dict[str, Any]] | None = None
        self._read = False
        self.environment = None

    def __getattr__(self, name: str) -> Any:
        # Called only while a Context slot is still unset: build that part, once.
        if name not in _LAZY_PARTS:
            raise AttributeError(name)
        self._read = True
        origin = self._origin
        if origin is not None:
            value = getattr(origin, name)
        elif name == "user_id":
            value = self._user_part()[0]
        elif name == "anonymous_id":
            value = self._anonymous_id()
        else:
            value = self._attributes()
        setattr(self, name, value)
        return value

    def _user_part(self) -> tuple[str | None, dict[str, Any]]:
        user = self._user
        if user is None:
            if self._origin is not None:
                user = self._origin._user_part()
            else:
                try:
                    user = _off_the_loop(_read_user, self._request)
                except Exception:
                    logger.exception("featureflags: cannot read the request's user")
                    user = (None, {"is_authenticated": False})
            self._user = user
        return user

    def _attributes(self) -> dict[str, Any]:
        user = self._user_part()
        try:
            return _off_the_loop(_request_attributes, self._request, user)
        except Exception:
            logger.exception("featureflags: cannot build the request's attributes")
            return dict(user[1])

    def _anonymous_id(self) -> str | None:
        request = self._request
        try:
            anonymous_id = read_anonymous_id(request)
        except Exception:
            logger.exception("featureflags: cannot read the anonymous-id cookie")
            anonymous_id = None
        if anonymous_id is None:
            anonymous_id = request.__dict__.get("_featureflags_new_anonymous_id")
            if anonymous_id is None and self._user_part()[0] is None:
                anonymous_id = os.urandom(16).hex()  # 128 random bits as uuid4().hex gives, without the UUID object
                request._featureflags_new_anonymous_id = anonymous_id  # the middleware sets the cookie
        return anonymous_id

    def replace(self, **changes: Any) -> Context:
        """Another environment or attributes, the other parts still built on first use (shared)."""
        if not changes.keys() <= {"environment", "attributes"}:
            return super().replace(**changes)
        copy = RequestContext(self._request)
        copy._origin = self
        for name, value in changes.items():
            setattr(copy, name, {} if name == "attributes" and value is None else value)
        return copy

    @property
    def is_built(self) -> bool:
        """Whether a part that differs per visitor (user, cookie, headers) was read."""
        return self._read

    def __repr__(self) -> str:
        return super().__repr__() if self._read else "RequestContext(<not built yet>)"
