"""featureflags.formats.unleash: Unleash's feature state as version-2 flags and segments (pure mapping)."""

from featureflags.engine import Context, Reason, Snapshot, validate_flags
from featureflags.formats.unleash import from_unleash

STATE = {
    "features": [
        {
            "name": "checkout",
            "enabled": True,
            "strategies": [
                {"name": "userWithId", "parameters": {"userIds": "1, 2, 9"}},
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "25", "stickiness": "default", "groupId": "grp"},
                    "segments": [7, 8],
                    "variants": [{"name": "two", "weight": 1, "payload": {"type": "string", "value": "two_step"}}],
                },
                {"name": "applicationHostname", "parameters": {"hostNames": "x"}},
                {"name": "default", "disabled": True},
            ],
            "variants": [
                {
                    "name": "one",
                    "weight": 1,
                    "payload": {"type": "string", "value": "single_page"},
                    "overrides": [{"contextName": "userId", "values": ["9"]}],
                }
            ],
            "dependencies": [{"feature": "base", "variants": ["disabled"]}],
        },
        {"name": "base", "enabled": True, "strategies": []},
        {
            "name": "random",
            "enabled": True,
            "strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "5", "stickiness": "random"}}],
        },
        {"name": "Hellø", "enabled": True},
    ],
    "segments": [
        {"id": 7, "name": "beta", "constraints": [{"contextName": "beta", "operator": "IN", "values": ["true"]}]},
        {"id": 8, "name": "everyone", "constraints": []},
    ],
}


def test_mapping_one_to_one():
    result = from_unleash(STATE, "production")
    assert set(result.unsupported) == {"random", "Hellø"}
    assert "random stickiness" in result.unsupported["random"]
    flags = {f["key"]: f for f in result.flags}
    checkout = flags["checkout"]
    assert checkout["value_type"] == "string"
    targeting = checkout["environments"]["production"]
    rules = targeting["rules"]
    assert rules[0]["constraints"] == [{"attribute": "user_id", "operator": "IN", "values": ["1", "2", "9"]}]
    assert (rules[1]["percentage"], rules[1]["salt"], rules[1]["segments"]) == (
        25,
        "grp",
        ["beta"],
    )  # empty segment: dropped
    assert rules[1]["variants"] == [{"name": "two", "weight": 1, "value": "two_step"}]
    assert rules[2]["percentage"] == 0 and rules[3]["percentage"] == 0  # unknown, disabled: never hold
    assert targeting["pinned_variants"] == {"9": "one"}
    assert checkout["prerequisites"] == [{"flag": "base", "enabled": True, "variants": []}]  # "disabled": on
    assert [s["key"] for s in result.segments] == ["beta"]
    assert validate_flags(flags, {s["key"]: s for s in result.segments}) == []


def test_imported_flags_evaluate_as_unleash():
    result = from_unleash(STATE, "production")
    snapshot = Snapshot.from_definitions(result.flags, environment="production", segments=result.segments)
    listed = snapshot.evaluate("checkout", Context("1"))
    assert (listed.reason, listed.rule, listed.value) == (Reason.RULE, "strategy-1", "single_page")
    pinned = snapshot.evaluate("checkout", Context("9"))
    assert (pinned.variant, pinned.value) == ("one", "single_page")  # on by rule 1, the pin decides the variant
    beta = [snapshot.evaluate("checkout", Context(str(i), {"beta": "true"})) for i in range(100, 400)]
    assert {d.value for d in beta if d.rule == "strategy-2"} == {"two_step"}
    assert 0.15 < sum(d.rule == "strategy-2" for d in beta) / len(beta) < 0.35
    assert not snapshot.is_enabled("checkout", Context("100", {"beta": "false"}))
