"""featureflags.testing.override_flag and the pytest fixture: no database, isolated per thread and task."""

from __future__ import annotations

import asyncio
import io
import threading
import unittest

import featureflags
from featureflags.engine import Reason
from featureflags.testing import active_overrides, override_flag


def test_context_manager_forces_and_restores(make_flag):
    make_flag("new_ui")
    with override_flag("new_ui", active=False):
        assert featureflags.is_enabled("new_ui", "1") is False
        assert featureflags.evaluate("new_ui", "1").reason is Reason.OVERRIDE
        with override_flag("new_ui", active=True, variant="blue"):
            assert featureflags.variant("new_ui", "1") == "blue"
        assert featureflags.is_enabled("new_ui") is False
    assert featureflags.is_enabled("new_ui", "1") is True
    assert active_overrides() == {}


def test_without_database_or_redis():
    # No db fixture: nothing is written anywhere.
    with override_flag("ghost"):
        assert featureflags.is_enabled("ghost", "1") is True
        assert featureflags.explain("ghost", "1").decision.reason is Reason.OVERRIDE


@override_flag("decorated", active=True, variant="v")
def test_as_decorator():
    assert featureflags.is_enabled("decorated") is True
    assert featureflags.variant("decorated", 3) == "v"


def test_decorated_async_function():
    @override_flag("async_flag")
    async def inner():
        await asyncio.sleep(0)
        return featureflags.is_enabled("async_flag", "1")

    assert asyncio.run(inner()) is True
    assert featureflags.is_enabled("async_flag", "1") is False


@override_flag("class_flag")
class OverriddenTestCase(unittest.TestCase):
    def test_inside(self):
        assert featureflags.is_enabled("class_flag") is True


def test_class_decorator_applies_to_its_tests():
    result = unittest.TextTestRunner(stream=io.StringIO()).run(
        unittest.defaultTestLoader.loadTestsFromTestCase(OverriddenTestCase)
    )
    assert result.wasSuccessful()


def test_threads_do_not_see_each_others_overrides():
    seen = {}
    ready = threading.Barrier(2)

    def one():
        with override_flag("t"):
            ready.wait()
            seen["one"] = featureflags.is_enabled("t", "1")
            ready.wait()

    def two():
        ready.wait()
        seen["two"] = featureflags.is_enabled("t", "1")
        ready.wait()

    threads = [threading.Thread(target=one), threading.Thread(target=two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"one": True, "two": False}


def test_pytest_fixture(override_flags):
    override_flags("fixture_flag", variant="blue")
    override_flags("off_flag", active=False)
    assert featureflags.variant("fixture_flag", "1") == "blue"
    assert featureflags.is_enabled("off_flag") is False


def test_fixture_undone_after_the_test():
    assert "fixture_flag" not in active_overrides()


def test_an_override_of_a_prerequisite_decides_the_dependent_flag(make_flag, rf):
    make_flag("new_ui", enabled=False, variants=[{"name": "red", "weight": 50}, {"name": "blue", "weight": 50}])
    make_flag("search", prerequisites=[{"key": "new_ui"}])
    make_flag("pricing", prerequisites=[{"key": "new_ui", "variant": "blue"}])
    request = rf.get("/")
    assert featureflags.is_enabled("search", "42") is False
    with override_flag("new_ui", active=True):
        assert featureflags.is_enabled("search", "42") is True
        assert featureflags.is_enabled("search", request) is True
        assert featureflags.evaluate("search", "42").reason is Reason.DEFAULT  # the dependent is not forced
        assert featureflags.explain("search", "42").decision.enabled is True
        assert featureflags.is_enabled("pricing", "42") is False  # on, but not with the variant it needs
    with override_flag("new_ui", active=True, variant="blue"):
        assert featureflags.is_enabled("pricing", "42") is True
    make_flag("new_ui_on", enabled=True)
    make_flag("reports", prerequisites=[{"key": "new_ui_on"}])
    with override_flag("new_ui_on", active=False):
        assert featureflags.is_enabled("reports", "42") is False
        assert featureflags.evaluate("reports", "42").reason is Reason.PREREQUISITE
    assert featureflags.is_enabled("search", "42") is False  # undone
    assert featureflags.is_enabled("reports", "42") is True
