"""Random and malicious writes through the service layer: a ValidationError (or a
conflict/not-found) naming the field, or success; never another exception, and a
refused write leaves the database exactly as it was."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featureflags
from featureflags import services
from featureflags.store import runtime

from .strategies import NASTY_STRINGS, database_state, flag_fields, flag_keys, json_values, user_ids

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
REFUSALS = (ValidationError, services.FlagConflict, services.FlagNotFound)


def refused_cleanly(write) -> bool:
    """Run ``write``; True if it was refused (and nothing changed), False if it succeeded."""
    before = database_state()
    try:
        write()
    except REFUSALS as exc:
        assert database_state() == before, "a refused write changed the database"
        if isinstance(exc, ValidationError):
            assert exc.message_dict, "a refusal must name the field"
        return True
    return False


@HYPOTHESIS
@given(key=flag_keys, fields=flag_fields)
def test_create_flag_with_random_fields(key, fields):
    if not refused_cleanly(lambda: services.create_flag(key, actor="fuzz", **fields)):
        runtime.refresh()
        assert isinstance(featureflags.is_enabled(key, "42"), bool)
        services.delete_flag(key, actor="fuzz")


@HYPOTHESIS
@given(changes=st.dictionaries(st.one_of(st.sampled_from(["enabled", "percentage", "rules"]), st.text()), json_values))
def test_update_flag_with_random_changes(changes):
    from featureflags.models import Flag

    if not Flag.objects.filter(key="target").exists():
        services.create_flag("target", enabled=True, percentage=30, actor="fuzz")
    refused_cleanly(lambda: services.update_flag("target", changes, actor="fuzz"))
    runtime.refresh()
    assert isinstance(featureflags.is_enabled("target", "42"), bool)


@HYPOTHESIS
@given(ids=st.lists(user_ids, max_size=30))
def test_add_users_with_hostile_ids(ids):
    from featureflags.models import Flag

    if not Flag.objects.filter(key="listed").exists():
        services.create_flag("listed", enabled=True, percentage=0, actor="fuzz")
    if not refused_cleanly(lambda: services.add_users("listed", ids, actor="fuzz")):
        runtime.refresh()
        for uid in ids:
            assert featureflags.is_enabled("listed", str(uid).strip()) is True


def test_unicode_ids_round_trip():
    ids = ["ünïcødé", "用户42", "👩‍👩‍👧‍👦", "ß" * 255, "\u202eevil", "a b", "'; DROP TABLE x; --"]
    services.create_flag("unicode", enabled=True, percentage=0, actor="fuzz")
    services.add_users("unicode", ids, actor="fuzz")
    runtime.refresh()
    assert all(featureflags.is_enabled("unicode", uid) for uid in ids)
    assert featureflags.is_enabled("unicode", "ünïcode") is False


@pytest.mark.parametrize("bad", ["", "\x00", "a\nb", "x" * 256, None])
def test_huge_list_with_one_bad_id_is_refused_whole(bad):
    services.create_flag("huge", enabled=True, percentage=0, actor="fuzz")
    services.add_users("huge", ["keep"], actor="fuzz")
    ids = [str(i) for i in range(20_000)] + [bad]
    assert refused_cleanly(lambda: services.add_users("huge", ids, actor="fuzz"))
    assert refused_cleanly(lambda: services.replace_users("huge", ids, actor="fuzz"))
    runtime.refresh()
    assert featureflags.is_enabled("huge", "keep") is True
    assert featureflags.is_enabled("huge", "19999") is False


@pytest.mark.parametrize("value", NASTY_STRINGS)
def test_nasty_strings_in_every_text_field(value):
    for field in ("description", "owner", "salt", "stickiness", "kind", "bucketing"):
        if not refused_cleanly(lambda f=field: services.create_flag("nasty", actor="fuzz", **{f: value})):
            services.delete_flag("nasty", actor="fuzz")
