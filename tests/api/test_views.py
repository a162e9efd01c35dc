"""Every flag endpoint, through a write token unless the test is about scopes."""

from __future__ import annotations

import pytest

from featureflags import services
from featureflags.models import AuditEntry, FlagUser
from featureflags.store import runtime

pytestmark = pytest.mark.django_db


@pytest.fixture
def flag():
    return services.create_flag("new_ui", enabled=True, percentage=30, tags=["web"], source="code")


def test_create_then_read(writer):
    response = writer.post("/api/flags/", {"key": "checkout", "percentage": 20, "enabled": True}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["key"] == "checkout" and body["percentage"] == 20 and body["version"] >= 1
    assert writer.get("/api/flags/checkout/").json()["percentage"] == 20
    entry = AuditEntry.objects.get(flag_key="checkout", action="create")
    assert (entry.actor, entry.source) == ("api:writer", "api")


def test_list_filters_and_pages(writer, flag):
    services.create_flag("old_ui", enabled=False)
    services.create_flag("dark_mode", enabled=True, kind="ops")
    body = writer.get("/api/flags/?page_size=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert [f["key"] for f in writer.get("/api/flags/?enabled=false").json()["results"]] == ["old_ui"]
    assert [f["key"] for f in writer.get("/api/flags/?kind=ops").json()["results"]] == ["dark_mode"]
    assert [f["key"] for f in writer.get("/api/flags/?tag=web").json()["results"]] == ["new_ui"]
    assert [f["key"] for f in writer.get("/api/flags/?search=dark").json()["results"]] == ["dark_mode"]


def test_bad_bodies_name_the_field(writer, flag):
    response = writer.post("/api/flags/", {"key": "x", "percentage": 150}, format="json")
    assert response.status_code == 400
    assert "percentage" in response.json()["fields"]
    response = writer.post("/api/flags/", {"key": "x", "colour": "red"}, format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["colour"]
    response = writer.patch("/api/flags/new_ui/", {"version": 2, "rules": ["(unclosed"]}, format="json")
    assert response.status_code == 400 and any(f.startswith("rules") for f in response.json()["fields"])
    response = writer.patch("/api/flags/new_ui/", {"enabled": False}, format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["version"]
    response = writer.post("/api/flags/", [1, 2], format="json")
    assert response.status_code == 400 and response.json()["error"] == "invalid"
    response = writer.post("/api/flags/", {"key": "new_ui"}, format="json")
    assert response.status_code == 400 and "key" in response.json()["fields"]


def test_update_with_version_and_stale_version_gets_409(writer, flag):
    version = writer.get("/api/flags/new_ui/").json()["version"]
    response = writer.patch("/api/flags/new_ui/", {"version": version, "percentage": 50}, format="json")
    assert response.status_code == 200 and response.json()["percentage"] == 50
    stale = writer.patch("/api/flags/new_ui/", {"version": version, "percentage": 70}, format="json")
    assert stale.status_code == 409
    body = stale.json()
    assert body["error"] == "conflict" and body["current"]["percentage"] == 50
    assert body["current"]["version"] == version + 1


def test_delete(writer, flag):
    assert writer.delete("/api/flags/new_ui/?version=99").status_code == 409
    assert writer.delete("/api/flags/new_ui/").status_code == 204
    assert writer.get("/api/flags/new_ui/").status_code == 404
    assert writer.get("/api/flags/new_ui/").json()["error"] == "not_found"


def test_users_add_remove_count_and_pages(writer, flag):
    response = writer.post("/api/flags/new_ui/users/", {"users": ["1", "2", "3"]}, format="json")
    assert response.json() == {"changed": 3, "count": 3}
    writer.post("/api/flags/new_ui/users/", {"users": ["9"], "excluded": True}, format="json")
    assert writer.post("/api/flags/new_ui/users/remove/", {"users": ["2"]}, format="json").json()["count"] == 2
    assert writer.get("/api/flags/new_ui/users/count/").json() == {"users": 2, "excluded_users": 1}
    page = writer.get("/api/flags/new_ui/users/?page_size=1").json()
    assert page["count"] == 2 and page["results"] == ["1"]
    assert writer.get("/api/flags/new_ui/users/?excluded=true").json()["results"] == ["9"]
    response = writer.put("/api/flags/new_ui/users/", {"users": ["7"]}, format="json")
    assert response.json()["count"] == 1
    bad = writer.post("/api/flags/new_ui/users/", {"users": ["ok", ""]}, format="json")
    assert bad.status_code == 400 and "users" in bad.json()["fields"]
    assert FlagUser.objects.filter(flag__key="new_ui", excluded=False).count() == 1  # nothing half-written


def test_users_streamed_text_body(writer, flag):
    body = "".join(f"user-{i}\n" for i in range(50_000))
    response = writer.generic("POST", "/api/flags/new_ui/users/", body, content_type="text/plain")
    assert response.status_code == 200, response.content
    assert response.json() == {"changed": 50_000, "count": 50_000}
    runtime.refresh()
    assert runtime.current().evaluate("new_ui", _ctx("user-49999")).reason.value == "TARGETED"
    bad = writer.generic("POST", "/api/flags/new_ui/users/", "a\n" + "x" * 300 + "\n", content_type="text/plain")
    assert bad.status_code == 400 and "line 2" in bad.json()["fields"]["users"][0]


def test_too_many_ids_change_nothing(writer, flag, monkeypatch):
    from featureflags.api import parsers

    monkeypatch.setattr(parsers, "MAX_IDS_PER_REQUEST", 10)
    response = writer.generic(
        "POST", "/api/flags/new_ui/users/", "\n".join(map(str, range(11))), content_type="text/plain"
    )
    assert response.status_code == 400 and "users" in response.json()["fields"]
    assert not FlagUser.objects.filter(flag__key="new_ui").exists()


@pytest.mark.slow
def test_a_million_ids_in_one_streamed_request(writer, flag):
    body = "\n".join(str(i) for i in range(1_000_000))
    response = writer.generic("POST", "/api/flags/new_ui/users/", body, content_type="text/plain")
    assert response.status_code == 200
    assert response.json()["count"] == 1_000_000


@pytest.mark.parametrize(
    "field,value",
    [
        ("rules", ["^admin-", "00$"]),
        ("variants", [{"name": "blue", "weight": 1}, {"name": "green", "weight": 3}]),
        ("constraints", [{"attribute": "region", "operator": "IN", "values": ["US", "CA"]}]),
    ],
)
def test_rules_variants_constraints(writer, flag, field, value):
    current = writer.get(f"/api/flags/new_ui/{field}/").json()
    assert current[field] == []
    response = writer.put(f"/api/flags/new_ui/{field}/", {"version": current["version"], field: value}, format="json")
    assert response.status_code == 200, response.json()
    got = response.json()[field]
    assert [v if isinstance(v, str) else {k: v[k] for k in value[0]} for v in got] == value
    stale = writer.put(f"/api/flags/new_ui/{field}/", {"version": current["version"], field: []}, format="json")
    assert stale.status_code == 409
    missing = writer.put(f"/api/flags/new_ui/{field}/", {field: []}, format="json")
    assert missing.status_code == 400 and "version" in missing.json()["fields"]


def test_bad_constraint_names_the_field(writer, flag):
    version = writer.get("/api/flags/new_ui/").json()["version"]
    body = {"version": version, "constraints": [{"attribute": "region", "operator": "NOPE", "values": []}]}
    response = writer.put("/api/flags/new_ui/constraints/", body, format="json")
    assert response.status_code == 400
    assert any(name.startswith("constraints") for name in response.json()["fields"])


def test_audit_log_filters(writer, flag):
    services.set_percentage("new_ui", 40, actor="alice", source="dashboard")
    services.create_flag("other", actor="bob")
    entries = writer.get("/api/flags/audit?flag=new_ui").json()["results"]
    assert {e["action"] for e in entries} == {"create", "set_percentage"}
    assert [e["flag"] for e in writer.get("/api/flags/audit?actor=bob").json()["results"]] == ["other"]
    assert writer.get("/api/flags/audit?since=2999-01-01T00:00:00Z").json()["count"] == 0
    # 3 flag writes, and the creation of the writer's own token (token changes are audited too)
    assert writer.get("/api/flags/audit?until=2999-01-01T00:00:00Z").json()["count"] == 4
    bad = writer.get("/api/flags/audit?since=yesterday")
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["since"]


def test_evaluate_for_server_callers(reader, flag):
    evaluator = reader  # read and write tokens are the server-side callers
    services.add_users("new_ui", ["42"])
    runtime.refresh()
    body = {"keys": ["new_ui", "missing"], "context": {"user_id": "42", "attributes": {"region": "US"}}}
    response = evaluator.post("/api/flags/evaluate", body, format="json")
    assert response.status_code == 200
    flags = response.json()["flags"]
    assert flags["new_ui"] == {"enabled": True, "variant": None, "reason": "TARGETED", "value": True, "rule": None}
    assert flags["missing"]["reason"] == "UNKNOWN_FLAG"
    everything = evaluator.post("/api/flags/evaluate", {}, format="json").json()["flags"]
    assert everything["new_ui"]["reason"] == "GLOBAL"
    bad = evaluator.post("/api/flags/evaluate", {"context": {"attributes": {"x": [1]}}}, format="json")
    assert bad.status_code == 400 and "context.attributes" in bad.json()["fields"]


def test_a_flag_may_be_called_evaluate(writer):
    assert writer.post("/api/flags/", {"key": "evaluate"}, format="json").status_code == 201
    assert writer.get("/api/flags/evaluate/").json()["key"] == "evaluate"


def _ctx(user_id):
    from featureflags.engine import Context

    return Context(user_id=user_id)
