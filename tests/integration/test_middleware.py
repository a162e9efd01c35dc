"""featureflags.middleware: lazy context, request.flags, the anonymous cookie; sync and async."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.test import AsyncClient, RequestFactory

from featureflags.context import ANONYMOUS_COOKIE_SALT, RequestContext, current_context
from featureflags.middleware import FeatureFlagsMiddleware

pytestmark = pytest.mark.urls("tests.integration.urls")
COOKIE = "featureflags_aid"


@pytest.fixture
def user(db):
    return User.objects.create_user("alice")


def test_request_flags_for_a_targeted_user(client, make_flag, user):
    make_flag("new_ui", percentage=0, users=[str(user.pk)])
    make_flag("new-ui", percentage=0)
    make_flag("exp", variants=[{"name": "blue", "weight": 1}], pinned_variants={str(user.pk): "blue"})
    client.force_login(user)
    data = client.get("/flags/").json()
    assert data["attr"] is True and data["api"] is True
    assert data["item"] is False
    assert data["variant"] == "blue"
    assert data["context"]["user_id"] == str(user.pk)
    assert data["context"]["attributes"]["is_authenticated"] is True
    assert COOKIE not in client.cookies  # a signed-in user needs no anonymous id


def test_anonymous_visitor_gets_a_signed_httponly_cookie_and_keeps_its_rollout(client, make_flag):
    make_flag("new_ui", percentage=50)
    first = client.get("/flags/")
    morsel = first.cookies[COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "Lax"
    anonymous_id = first.json()["context"]["anonymous_id"]
    assert anonymous_id and len(anonymous_id) == 32
    # The cookie is signed: the raw value is not the id alone.
    assert morsel.value != anonymous_id
    decisions = {client.get("/flags/").json()["attr"] for _ in range(5)}
    assert decisions == {first.json()["attr"]}
    again = client.get("/flags/")
    assert again.json()["context"]["anonymous_id"] == anonymous_id
    assert COOKIE not in again.cookies  # set once, only when needed


def test_tampered_cookie_is_replaced(client, make_flag):
    make_flag("new_ui")
    client.cookies[COOKIE] = "forged-id"
    response = client.get("/flags/")
    assert response.json()["context"]["anonymous_id"] != "forged-id"
    assert COOKIE in response.cookies


def test_no_flag_checked_reads_nothing_and_sets_no_cookie(client, db):
    response = client.get("/nothing/")
    assert response.content == b"nothing checked"
    assert COOKIE not in response.cookies


def test_context_is_lazy_and_built_once(rf, db, django_assert_num_queries):
    request = rf.get("/")
    reads = []

    class CountingUser:
        is_authenticated = True
        is_staff = False
        is_superuser = False

        @property
        def pk(self):
            reads.append(1)
            return 7

    request.user = CountingUser()
    seen = {}

    def view(req):
        seen["context"] = current_context.get()
        assert reads == []  # nothing read before the first check
        assert req.flags.anything is False
        req.flags["other"]
        return __import__("django.http").http.HttpResponse("ok")

    FeatureFlagsMiddleware(view)(request)
    assert isinstance(seen["context"], RequestContext)
    assert seen["context"].user_id == "7"
    assert reads == [1]
    assert current_context.get() is None  # reset after the response


def test_context_hook_and_builtin_attributes(rf, db, settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "CONTEXT": "tests.integration.test_middleware.region_hook"}
    request = rf.get("/", HTTP_USER_AGENT="pytest", HTTP_ACCEPT_LANGUAGE="fr-CH, fr;q=0.9", REMOTE_ADDR="10.1.2.3")
    request.user = __import__("django.contrib.auth.models").contrib.auth.models.AnonymousUser()
    FeatureFlagsMiddleware.start(request)
    attributes = request._featureflags_context.attributes
    assert attributes["region"] == "EU"
    assert attributes["ip"] == "10.1.2.3"
    assert attributes["user_agent"] == "pytest"
    assert attributes["language"] == "fr-CH"
    assert attributes["is_authenticated"] is False
    assert "groups" not in attributes  # no flag constrains groups


def region_hook(request):
    return {"region": "EU"}


def test_failing_hook_does_not_break_the_page(client, make_flag, settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "CONTEXT": "tests.integration.test_middleware.broken_hook"}
    make_flag("new_ui")
    assert client.get("/flags/").json()["attr"] is True


def broken_hook(request):
    raise RuntimeError("boom")


def test_groups_load_only_when_a_constraint_needs_them(client, make_flag, user, django_assert_num_queries):
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.create(name="beta"))
    client.force_login(user)
    make_flag("new_ui", constraints=[{"attribute": "groups", "operator": "IN", "values": ["beta"]}])
    data = client.get("/flags/").json()
    assert data["context"]["attributes"]["groups"] == ["beta"]
    assert data["attr"] is True


def test_user_id_attribute_setting(client, make_flag, user, settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "USER_ID_ATTRIBUTE": "username"}
    make_flag("new_ui", percentage=0, users=["alice"])
    client.force_login(user)
    assert client.get("/flags/").json()["attr"] is True


def test_async_view_sees_the_current_context(make_flag):
    make_flag("new_ui")
    make_flag("exp", variants=[{"name": "blue", "weight": 1}])
    response = async_to_sync(AsyncClient().get)("/flags-async/")
    data = response.json()
    assert data == {"attr": True, "current": None, "variant": "blue"}
    signed = response.cookies[COOKIE].value
    request = RequestFactory().get("/", HTTP_COOKIE=f"{COOKIE}={signed}")
    assert len(request.get_signed_cookie(COOKIE, salt=ANONYMOUS_COOKIE_SALT)) == 32


@pytest.mark.django_db(transaction=True)
def test_async_view_of_a_signed_in_user():
    from featureflags import services
    from featureflags.store import runtime

    user = User.objects.create_user("bob")
    services.create_flag("new_ui", enabled=True, percentage=0)
    services.add_users("new_ui", [str(user.pk)])
    runtime.refresh()
    client = AsyncClient()
    client.force_login(user)
    data = async_to_sync(client.get)("/flags-async/").json()
    assert data["attr"] is True
    assert data["current"] == str(user.pk)


def test_async_required_view(make_flag):
    assert async_to_sync(AsyncClient().get)("/required-async/").status_code == 404
    make_flag("new_ui")
    response = async_to_sync(AsyncClient().get)("/required-async/")
    assert response.status_code == 200 and response.content == b"async page"


def _through_django_auth(request):
    """The request as Django's session and authentication middleware leave it."""
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware

    SessionMiddleware(lambda r: None).process_request(request)
    AuthenticationMiddleware(lambda r: None).process_request(request)
    return request


def test_a_visitor_without_a_session_is_anonymous_without_loading_the_user(rf, make_flag):
    from django.http import HttpResponse
    from django.utils.functional import empty

    make_flag("new_ui", percentage=100)
    make_flag("half", percentage=50)
    request = _through_django_auth(rf.get("/"))
    seen = {}

    def view(req):
        seen["on"] = req.flags.new_ui
        seen["user_id"] = req._featureflags_context.user_id
        seen["authenticated"] = req._featureflags_context.attributes["is_authenticated"]
        seen["user_loaded"] = req.user._wrapped is not empty
        seen["id_before_hashing"] = "_featureflags_new_anonymous_id" in req.__dict__
        seen["half"] = req.flags.get("half") is not None  # hashes the anonymous id: the visitor is given one
        return HttpResponse("ok")

    response = FeatureFlagsMiddleware(view)(request)
    assert seen == {
        "on": True,
        "user_id": None,
        "authenticated": False,
        "user_loaded": False,
        "id_before_hashing": False,
        "half": True,
    }
    assert response["Vary"] == "Cookie"  # the page depends on the visitor's cookie
    assert COOKIE in response.cookies


def test_a_check_that_hashes_no_anonymous_id_issues_no_cookie(rf, make_flag):
    from django.http import HttpResponse

    make_flag("everyone", percentage=100)
    response = FeatureFlagsMiddleware(lambda req: HttpResponse(str(req.flags.everyone)))(
        _through_django_auth(rf.get("/"))
    )
    assert response.content == b"True"
    assert COOKIE not in response.cookies  # nothing was hashed: no id to keep
    assert response["Vary"] == "Cookie"  # the user id (from the session cookie) was read


def test_a_flag_that_is_off_reads_nothing_of_the_visitor(rf, make_flag):
    from django.http import HttpResponse

    make_flag("dark", enabled=False)
    request = _through_django_auth(rf.get("/"))
    response = FeatureFlagsMiddleware(lambda req: HttpResponse(str(req.flags.dark)))(request)
    assert response.content == b"False"
    assert not response.has_header("Vary") and COOKIE not in response.cookies
    assert not request._featureflags_context.is_built


def test_attributes_and_the_hook_are_read_only_when_a_flag_reads_an_attribute(rf, make_flag, settings):
    from django.http import HttpResponse

    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "CONTEXT": "tests.integration.test_middleware.counting_hook"}
    make_flag("everyone", percentage=100)
    make_flag("staff", constraints=[{"attribute": "is_staff", "operator": "IN", "values": ["true"]}])
    HOOK_CALLS.clear()
    seen = []

    def view(req):
        seen.append(req.flags.everyone)
        seen.append(len(HOOK_CALLS))  # no flag read an attribute yet
        seen.append(req.flags.staff)
        seen.append(req.flags.staff)
        return HttpResponse("ok")

    FeatureFlagsMiddleware(view)(_through_django_auth(rf.get("/")))
    assert seen == [True, 0, False, False]
    assert len(HOOK_CALLS) == 1  # built once, on the first check that read an attribute


HOOK_CALLS: list[object] = []


def counting_hook(request):
    HOOK_CALLS.append(request)
    return {"region": "EU"}


def test_a_context_replaced_for_another_environment_builds_its_parts_once(rf, db):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/", REMOTE_ADDR="10.9.8.7")
    request.user = AnonymousUser()
    context = FeatureFlagsMiddleware.start(request)
    staging = context.replace(environment="staging")
    assert staging.environment == "staging" and context.environment is None
    assert staging.attributes["ip"] == "10.9.8.7"
    assert staging.attributes is context.attributes  # built once, shared
    assert staging.anonymous_id == context.anonymous_id == request._featureflags_new_anonymous_id


def test_another_middlewares_lazy_user_is_loaded(rf, make_flag):
    from django.http import HttpResponse
    from django.utils.functional import SimpleLazyObject

    class TokenUser:  # as a token or JWT middleware might attach, with no session at all
        is_authenticated = True
        is_staff = is_superuser = False
        pk = 99

    request = _through_django_auth(rf.get("/"))
    request.user = SimpleLazyObject(TokenUser)
    make_flag("new_ui", percentage=0, users=["99"])
    response = FeatureFlagsMiddleware(lambda req: HttpResponse(str(req.flags.new_ui)))(request)
    assert response.content == b"True"


def test_vary_cookie_is_added_to_an_existing_vary_and_only_when_a_flag_was_checked(rf, make_flag):
    from django.http import HttpResponse

    make_flag("new_ui")

    def checked(req):
        req.flags.get("new_ui")
        response = HttpResponse("ok")
        response["Vary"] = "Accept-Language"
        return response

    response = FeatureFlagsMiddleware(checked)(_through_django_auth(rf.get("/")))
    assert response["Vary"] == "Accept-Language, Cookie"
    untouched = FeatureFlagsMiddleware(lambda req: HttpResponse("ok"))(_through_django_auth(rf.get("/")))
    assert not untouched.has_header("Vary")


def test_the_issued_cookie_is_what_djangos_set_cookie_makes(rf, settings):
    from http.cookies import SimpleCookie

    from django.http import HttpResponse

    from featureflags.middleware import issued_cookie

    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "ANONYMOUS_COOKIE_MAX_AGE": 3600}
    for secure in (False, True):
        ours = issued_cookie(COOKIE, "0123abcd:1tJb:sig-_x", secure)
        django = HttpResponse()
        django.set_cookie(COOKIE, "0123abcd:1tJb:sig-_x", max_age=3600, httponly=True, secure=secure, samesite="Lax")
        theirs = django.cookies[COOKIE]
        ours_parsed = SimpleCookie(ours.output(header=""))[COOKIE]
        theirs_parsed = SimpleCookie(theirs.output(header=""))[COOKIE]
        for morsel in (ours_parsed, theirs_parsed):
            morsel["expires"] = ""  # made in the same second or the next: compared apart
        assert ours_parsed == theirs_parsed and ours_parsed.value == "0123abcd:1tJb:sig-_x"
        assert ours["httponly"] is True and ours["samesite"] == "Lax" and bool(ours["secure"]) is secure
        assert ours["max-age"] == 3600 and ours["expires"]


def test_an_issued_cookie_changed_afterwards_says_so(rf):
    from featureflags.middleware import issued_cookie

    morsel = issued_cookie(COOKIE, "abc", False)
    assert "Domain" not in morsel.output()
    morsel["domain"] = "example.com"  # as another middleware might
    assert "Domain=example.com" in morsel.output()
