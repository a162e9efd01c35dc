"""spec/config-file.md's expected decisions for the real features_config.json, through
``parse_config`` and the engine (Django settings for the time zone, no database)."""

import json
from pathlib import Path

import pytest

from featureflags.engine import Context, Decision, Reason, Snapshot
from featureflags.engine.hashing import murmur_bucket
from featureflags.formats.config_file import parse_config

CONFIG = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "features_config.json"

PREMIUM_US = {"region": "US", "account_type": "premium", "beta_program": True}


@pytest.fixture(scope="module")
def definitions():
    if not CONFIG.is_file():
        pytest.skip(f"The example file is not at {CONFIG}")
    parsed = parse_config(json.loads(CONFIG.read_text()))
    return [{"key": key, **definition} for key, definition in parsed.items()]


@pytest.fixture(scope="module")
def production(definitions):
    return Snapshot.from_definitions(definitions, environment="production")


def test_user_123_premium_in_the_us(production):
    who = Context(user_id=123, attributes=PREMIUM_US, environment="production")
    assert production.evaluate("new_ui", who) == Decision(True, None, Reason.TARGETED, True)
    assert murmur_bucket("advanced_search:", "123") == 83  # <= 85 %
    assert production.evaluate("advanced_search", who) == Decision(True, None, Reason.RULE, True, "rollout")


def test_user_999_in_germany(production):
    who = Context(user_id=999, attributes={"region": "DE"}, environment="production")
    assert production.evaluate("new_ui", who) == Decision(False, None, Reason.NO_MATCH)
    assert production.evaluate("advanced_search", who) == Decision(False, None, Reason.PREREQUISITE)


def test_no_context_is_the_global_switch(production):
    assert production.evaluate("new_ui") == Decision(True, None, Reason.GLOBAL, True)
    assert production.evaluate("advanced_search") == Decision(True, None, Reason.GLOBAL, True)


def test_environment_qa_is_off(definitions, production):
    who = Context(user_id=123, attributes=PREMIUM_US, environment="qa")
    assert production.evaluate("new_ui", who) == Decision(False, None, Reason.ENVIRONMENT)
    assert production.evaluate("advanced_search", who) == Decision(False, None, Reason.ENVIRONMENT)
    qa = Snapshot.from_definitions(definitions, environment="qa")
    # A deployment of qa has a qa environment (the v1 mapping), where these flags are switched off.
    assert qa.evaluate("new_ui").reason is Reason.OFF
    assert qa.evaluate("advanced_search").reason is Reason.OFF


def test_rollout_and_constraints_of_new_ui_for_unlisted_users(production):
    # Not listed: region, account type and beta program must hold, then 90 %.
    eligible = [str(i) for i in range(1000, 1300) if murmur_bucket("new_ui:", str(i)) <= 90]
    who = Context(user_id=eligible[0], attributes=PREMIUM_US, environment="production")
    assert production.evaluate("new_ui", who) == Decision(True, None, Reason.RULE, True, "rollout")
    not_beta = Context(user_id=eligible[0], attributes={**PREMIUM_US, "beta_program": False}, environment="production")
    assert production.evaluate("new_ui", not_beta).reason is Reason.NO_MATCH
