"""Every hostile input class of issue 15, through the API, the dashboard, the admin and the
import: never a response >= 500, a refusal names the field, and nothing is half-written."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from rest_framework.test import APIClient

from featureflags import services
from featureflags.api.models import ApiToken
from featureflags.models import Flag, FlagUser

from .strategies import database_state

pytestmark = pytest.mark.django_db

BIG = 2**31
INT_FIELDS = ("error_threshold", "error_window_seconds", "performance_threshold", "expected_lifetime_days")
NUL = "a\x00b"


@pytest.fixture
def api():
    _token, secret = ApiToken.objects.issue("hostile-writer", "write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def target():
    services.create_flag("target", enabled=True, percentage=30, variants=["a", "b"], actor="fuzz")
    services.add_users("target", ["1", "2"])
    return Flag.objects.get(key="target")


@pytest.fixture
def operator():
    user = User.objects.create_user("op", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="featureflags"))
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(User.objects.create_superuser("root", email="r@example.com"))
    return client


def native_file(tmp_path, *flags: dict | str) -> str:
    """A featureflags export holding ``flags`` (dicts, or raw JSON text for hostile ones)."""
    body = ", ".join(f if isinstance(f, str) else json.dumps(f) for f in flags)
    path = tmp_path / "import.json"
    path.write_text('{"format": "featureflags", "version": 1, "flags": [' + body + "]}")
    return str(path)


def import_refused(path: str, message: str) -> None:
    before = database_state()
    with pytest.raises(CommandError, match=message):
        call_command("flags", "import", path, "--no-progress")
    assert database_state() == before


def refused(response, field: str | None = None, status: int = 400):
    assert response.status_code == status, (response.status_code, response.content[:300])
    if field is not None:
        assert field in response.json()["fields"], response.json()
    return response


def unchanged(call, *args, **kwargs):
    """Run ``call(*args, **kwargs)`` and check it wrote nothing."""
    before = database_state()
    response = call(*args, **kwargs)
    assert response.status_code < 500
    assert database_state() == before, "a refused request changed the database"
    return response


# -- integers a 32-bit column cannot hold --------------------------------------------------------


@pytest.mark.parametrize("field", INT_FIELDS)
def test_api_refuses_integers_out_of_range(api, target, field):
    for value in (BIG, 2**70):
        body = {"version": target.version, field: value}
        refused(unchanged(api.patch, "/api/flags/target/", body, format="json"), field)
        refused(unchanged(api.post, "/api/flags/", {"key": "new", field: value}, format="json"), field)
    assert services.update_flag("target", {field: BIG - 1}).version == target.version + 1  # the largest is fine


def test_api_refuses_a_variant_weight_out_of_range(api, target):
    body = {"version": target.version, "variants": [{"name": "a", "weight": BIG}, {"name": "b", "weight": 1}]}
    refused(unchanged(api.put, "/api/flags/target/variants/", body, format="json"), "variants.0.weight")


@pytest.mark.parametrize("field", INT_FIELDS)
def test_services_and_import_refuse_integers_out_of_range(target, field, tmp_path):
    with pytest.raises(Exception) as raised:
        services.update_flag("target", {field: BIG})
    assert field in raised.value.message_dict
    import_refused(
        native_file(tmp_path, {"key": "imported", "enabled": True, field: BIG}), f"imported.{field}: A whole"
    )


def test_dashboard_refuses_integers_out_of_range(operator, target):
    page = operator.get("/flags/target/settings/")
    assert page.status_code == 200
    form = page.context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.update(version=target.version, error_threshold=str(BIG))
    for prefix in page.context["formsets"]:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = unchanged(operator.post, "/flags/target/settings/", data)
    assert response.status_code == 400
    assert "error_threshold" in response.content.decode()


def test_admin_refuses_integers_out_of_range(superuser_client, target):
    url = f"/admin/featureflags/flag/{target.pk}/change/"
    page = superuser_client.get(url)
    assert page.status_code == 200
    data = {}
    for name, value in page.context["adminform"].form.initial.items():
        data[name] = "" if value is None else (json.dumps(value) if isinstance(value, (list, dict)) else value)
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({f"{management.prefix}-TOTAL_FORMS": "0", f"{management.prefix}-INITIAL_FORMS": "0"})
    data.update(expected_version=target.version, error_window_seconds=str(BIG), enabled="on")
    response = unchanged(superuser_client.post, url, data)
    assert response.status_code == 200  # the form again, with its message
    assert "error_window_seconds" in str(response.context["adminform"].form.errors)


# -- NUL bytes in filters and paths ----------------------------------------------------------------


@pytest.mark.parametrize("param", ["kind", "owner", "search", "tag", "enabled"])
def test_api_list_filters_refuse_nul(api, target, param):
    refused(api.get(f"/api/flags/?{param}={quote(NUL)}"), param)


@pytest.mark.parametrize("param", ["flag", "actor", "source", "action", "since"])
def test_api_audit_filters_refuse_nul(api, target, param):
    refused(api.get(f"/api/flags/audit?{param}={quote(NUL)}"), param)


@pytest.mark.parametrize("tail", ["", "users/", "users/count/", "rules/", "variants/", "constraints/", "restore/"])
def test_api_flag_paths_refuse_nul(api, target, tail):
    for method in ("get", "post", "put", "delete"):
        response = unchanged(getattr(api, method), f"/api/flags/{quote(NUL)}/{tail}")
        assert response.status_code in (400, 405), (method, tail, response.status_code)
        if response.status_code == 400:
            assert "key" in response.json()["fields"]


def test_api_client_and_evaluate_refuse_nul(client_for, target):
    evaluator = client_for("evaluate")
    refused(evaluator.get(f"/api/flags/client?keys={quote(NUL)}"), "keys")
    refused(evaluator.get(f"/api/flags/client?anonymous_id={quote(NUL)}"), "anonymous_id")


@pytest.mark.parametrize(
    "url",
    [
        "/flags/?q={}",
        "/flags/?owner={}",
        "/flags/?tag={}",
        "/flags/?kind={}",
        "/flags/{}/settings/",
        "/flags/{}/users/",
        "/flags/{}/history/",
        "/flags/target/users/?q={}",
    ],
)
def test_dashboard_refuses_nul_in_filters_and_paths(operator, target, url):
    response = operator.get(url.format(quote(NUL)))
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/featureflags/flag/?q={}",
        "/admin/featureflags/flag/?owner={}",
        "/admin/featureflags/flag/?tag={}",
        "/admin/featureflags/flaguser/?flag={}",
        "/admin/featureflags/flaguser/?q={}",
        "/admin/featureflags/auditentry/?q={}",
    ],
)
def test_admin_refuses_nul_in_filters(superuser_client, target, url):
    response = superuser_client.get(url.format(quote(NUL)))
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_dashboard_forms_refuse_nul(operator, target):
    response = unchanged(operator.post, "/flags/new/", {"key": NUL, "kind": "release", "description": NUL})
    assert response.status_code == 400


# -- lone surrogates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes,field",
    [
        ('{"metadata": {"\\ud800": 1}}', "metadata"),
        ('{"metadata": {"k": "\\udfff"}}', "metadata"),
        ('{"metadata": {"k": ["\\ud800x"]}}', "metadata"),
        ('{"pinned_variants": {"\\ud800": "a"}}', "pinned_variants"),
    ],
)
def test_api_refuses_lone_surrogates(api, target, changes, field):
    body = changes[:-1] + f', "version": {target.version}}}'
    refused(unchanged(api.generic, "PATCH", "/api/flags/target/", body, content_type="application/json"), field)
    assert services.update_flag("target", {"metadata": {"k": "\ud7ff\ue000"}}).metadata == {"k": "\ud7ff\ue000"}


def test_import_refuses_lone_surrogates(target, tmp_path):
    hostile = '{"key": "target", "enabled": true, "metadata": {"\\ud800": "x"}}'
    import_refused(native_file(tmp_path, hostile), "target.metadata: Lone surrogates")


# -- bodies, encodings, lists -----------------------------------------------------------------------


def test_a_body_over_the_limit_gets_the_json_error_shape(api, target, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"users": [str(i) for i in range(1000)]})
    response = unchanged(api.generic, "POST", "/api/flags/target/users/", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "too_large" and "text/plain" in response.json()["detail"]


def test_text_ids_stream_past_the_body_limit(api, target, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = "\n".join(str(i) for i in range(5000))
    response = api.generic("PUT", "/api/flags/target/users/", body, content_type="text/plain")
    assert response.status_code == 200 and response.json()["count"] == 5000


def test_invalid_utf8_is_refused_not_stored_as_replacement_characters(api, target):
    body = b"ok-1\nbad-\xff\xfe\nok-2\n"
    response = refused(
        unchanged(api.generic, "POST", "/api/flags/target/users/", body, content_type="text/plain"), "users"
    )
    assert "Line 2" in response.json()["fields"]["users"][0]
    assert not FlagUser.objects.filter(user_id__contains="\ufffd").exists()
    refused(unchanged(api.generic, "POST", "/api/flags/", b'{"key": "\xff"}', content_type="application/json"))


def _session_writer() -> Client:
    user = User.objects.create_user("writer", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_flag", "change_flag"]))
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(User.objects.get(pk=user.pk))
    client.cookies["csrftoken"] = "c" * 32  # the CSRF secret a browser would hold
    return client


def test_text_ids_with_a_session_and_csrf(target):
    client = _session_writer()
    token = client.cookies["csrftoken"].value
    no_token = client.generic("POST", "/api/flags/target/users/", "7\n8\n", content_type="text/plain")
    assert no_token.status_code == 403  # CSRF still guards a session
    response = client.generic(
        "POST", "/api/flags/target/users/", "7\n8\n", content_type="text/plain", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200 and response.json() == {"changed": 2, "count": 4}


@pytest.mark.slow
def test_a_million_ids_with_a_session(target):
    client = _session_writer()
    body = "\n".join(str(i) for i in range(1_000_000))
    response = client.generic(
        "PUT",
        "/api/flags/target/users/",
        body,
        content_type="text/plain",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 200, response.content[:300]
    assert response.json()["count"] == 1_000_000


# -- keys a URL cannot route -----------------------------------------------------------------------


@pytest.mark.parametrize("key", [".", "..", "...", "...."])
def test_unroutable_keys_are_refused_everywhere(api, operator, key, tmp_path):
    refused(unchanged(api.post, "/api/flags/", {"key": key}, format="json"), "key")
    response = unchanged(operator.post, "/flags/new/", {"key": key, "kind": "release"})
    assert response.status_code == 200 and "not only dots" in response.content.decode()
    import_refused(native_file(tmp_path, {"key": key, "enabled": True}), "not only dots")
    assert not Flag.all_objects.filter(key=key).exists()
    assert services.create_flag(".hidden-but-routable").key == ".hidden-but-routable"


# -- the dashboard's version fields ---------------------------------------------------------------------


def test_dashboard_refuses_a_version_that_is_not_a_number(operator, target):
    entry = target.audit_entries.order_by("id").first()
    for url, data in (
        ("/flags/target/switch/", {"enabled": "1", "version": "abc"}),
        ("/flags/target/rules/", {"pattern": "^x", "version": "abc"}),
        (f"/flags/target/history/{entry.pk}/revert/", {"version": "abc"}),
        ("/flags/target/switch/", {"enabled": "1", "version": "9" * 30}),
    ):
        response = unchanged(operator.post, url, data)
        assert response.status_code == 400, (url, response.status_code)
        assert "version" in response.content.decode() and "Bad request" in response.content.decode()


# -- hostile import files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content,message",
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a": ' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
        (b"\xff\xfe not utf-8", "not JSON"),
    ],
)
def test_hostile_import_files_give_clear_errors(tmp_path, content, message):
    path = tmp_path / "hostile.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    import_refused(str(path), message)


@pytest.mark.parametrize(
    "flag,message",
    [
        ('{"key": "ok", "metadata": {"deep": ' + "[" * 40 + "]" * 40 + "}}", "ok.metadata: At most 32 nested"),
        ('{"key": "ok", "variants": ["a"], "pinned_variants": {"\\udc00": "a"}}', "ok.pinned_variants: Lone"),
        ('{"key": "ok", "variants": [{"name": "a", "weight": 2147483648}]}', "ok.variants.0.weight"),
        ('{"key": "ok", "percentage": 2147483648}', "ok.percentage"),
        ('{"key": "ok", "users": ["\\ud800"]}', "users"),
        ('{"key": "ok", "description": "a\\u0000b"}', "ok.description: NUL"),
    ],
)
def test_hostile_native_imports_give_clear_errors(tmp_path, flag, message):
    import_refused(native_file(tmp_path, flag), message)
