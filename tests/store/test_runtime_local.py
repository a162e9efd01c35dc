"""The in-process mirror (no Redis): loading, read-your-writes inside transactions, and the
reconciler catching up from the database's change log."""

from __future__ import annotations

import time

import pytest
from django.db import connections, transaction

import featureflags
from featureflags import services
from featureflags.engine import Reason
from featureflags.models import ChangeLog, Flag, MirrorState
from featureflags.store import changes, runtime, state


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.mark.django_db
def test_loads_flags_from_the_database_on_first_use():
    services.create_flag("f", enabled=True, percentage=100)
    assert featureflags.is_enabled("f", "1") is True
    assert runtime.status()["mode"] == "local"
    assert runtime.current().version == MirrorState.objects.get(pk=1).version


# The next two run in this order: a write inside a test's transaction (rolled back at its
# end, on_commit never runs) is served to that test and gone in the next, with no reset.


@pytest.mark.django_db
def test_a_flag_written_in_a_test_is_seen_by_that_test():
    services.create_flag("read_your_writes", enabled=True)
    assert featureflags.is_enabled("read_your_writes") is True
    services.kill("read_your_writes")
    assert featureflags.evaluate("read_your_writes").reason is Reason.OFF


@pytest.mark.django_db
def test_and_is_gone_in_the_next_test():
    assert not Flag.objects.filter(key="read_your_writes").exists()
    assert featureflags.evaluate("read_your_writes").reason is Reason.UNKNOWN_FLAG


@pytest.mark.django_db
def test_a_snapshot_reloaded_inside_a_test_is_that_tests_alone():
    services.create_flag("read_inside", enabled=True)
    services.create_flag("read_inside_too", enabled=True)
    runtime.refresh()  # loads inside the test's transaction: its uncommitted rows and head
    assert featureflags.is_enabled("read_inside") is True
    assert featureflags.is_enabled("read_inside_too") is True


@pytest.mark.django_db
def test_and_the_next_test_starts_from_the_committed_database():
    services.create_flag("next", enabled=True)  # written before anything is read in this test
    assert sorted(runtime.current().flags) == ["next"]
    assert runtime.current().version == MirrorState.objects.get(pk=1).version


@pytest.mark.django_db
def test_a_write_rolled_back_to_a_savepoint_is_dropped():
    services.create_flag("kept", enabled=True)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.create_flag("undone", enabled=True)
        assert featureflags.is_enabled("undone") is True
        raise RuntimeError("roll back")
    assert featureflags.evaluate("undone").reason is Reason.UNKNOWN_FLAG
    assert featureflags.is_enabled("kept") is True


@pytest.mark.django_db
def test_unknown_flag_gives_the_default():
    assert featureflags.is_enabled("nope", "1") is False
    assert featureflags.is_enabled("nope", "1", default=True) is True
    assert featureflags.variant("nope", "1", default="control") == "control"


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_is_served_before_the_call_returns():
    services.create_flag("f", enabled=False)
    assert featureflags.is_enabled("f") is False
    services.set_enabled("f", True)
    assert state.served is not None and state.served.flags["f"].enabled is True
    assert runtime.status()["head"] == changes.head().version


@pytest.mark.django_db(transaction=True)
def test_a_big_list_is_compiled_once_and_reused():
    services.create_flag("big", enabled=True, percentage=0)
    services.add_users("big", (str(i) for i in range(20_000)))
    assert featureflags.evaluate("big", "19999").reason is Reason.TARGETED
    assert featureflags.evaluate("big", "20000").reason is Reason.NO_MATCH
    users = state.base.definitions["big"]["users"]
    services.set_percentage("big", 100)
    assert featureflags.evaluate("big", "20000").enabled is True
    assert state.base.definitions["big"]["users"] is users  # the list did not change: not read again


# SQLite's shared in-memory test database locks whole tables between threads: the
# reconciler thread's reads then collide with the test's writes. CI runs PostgreSQL.
concurrent_database = pytest.mark.skipif(
    connections["default"].vendor == "sqlite", reason="needs a database that lets two threads in (PostgreSQL)"
)


def write_elsewhere(key: str, **fields) -> None:
    """What another process (or a SQL fix with the log row) does: rows and log, no announcement here."""
    with transaction.atomic():
        head = changes.record([key])
        Flag.objects.filter(key=key).update(mirror_version=head.version, **fields)


@concurrent_database
@pytest.mark.django_db(transaction=True)
def test_the_thread_catches_up_from_the_change_log(settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "SYNC_THREAD": True, "MAX_STALENESS": 0.1}
    services.create_flag("f", enabled=True, percentage=0)
    assert featureflags.is_enabled("f", "someone") is False
    write_elsewhere("f", percentage=100)
    assert wait_until(lambda: featureflags.is_enabled("f", "someone"))
    assert runtime.current().version == changes.head().version
    assert wait_until(lambda: runtime.status()["in_sync"])


@concurrent_database
@pytest.mark.django_db(transaction=True)
def test_two_changes_sharing_nothing_but_time_are_both_caught_up(settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "SYNC_THREAD": True, "MAX_STALENESS": 0.1}
    services.create_flag("a", enabled=False)
    services.create_flag("b", enabled=False)
    assert featureflags.is_enabled("a") is False
    write_elsewhere("a", enabled=True)
    services.set_enabled("b", True)  # this process's own change comes after a change it has not seen
    assert featureflags.is_enabled("b") is True
    assert wait_until(lambda: featureflags.is_enabled("a"))


@concurrent_database
@pytest.mark.django_db(transaction=True)
def test_a_database_restored_to_an_older_history_is_reloaded_in_full(settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "SYNC_THREAD": True, "MAX_STALENESS": 0.1}
    services.create_flag("f", enabled=True)
    backup = changes.head()
    services.kill("f")
    assert featureflags.is_enabled("f") is False
    # The database comes back from the backup, then takes one write of its own: its version
    # is this process's again, but its history is not.
    ChangeLog.objects.filter(version__gt=backup.version).delete()
    MirrorState.objects.filter(pk=1).update(version=backup.version, token=backup.token)
    Flag.objects.filter(key="f").update(enabled=True)
    services.create_flag("g", enabled=True)  # this process serves g: the reconciler must see the rest
    assert wait_until(lambda: featureflags.is_enabled("f"))
    # A full reload read just before g committed may drop g until the next look (0.1 s here).
    assert wait_until(lambda: featureflags.is_enabled("g"), timeout=2)
    assert wait_until(lambda: runtime.status()["in_sync"])  # as of the reconciler's next look


def test_no_database_means_no_flags_and_no_exception():
    # Without the django_db mark every query raises: the snapshot is empty, checks answer.
    assert featureflags.is_enabled("anything", "1") is False
    assert featureflags.evaluate("anything").reason is Reason.UNKNOWN_FLAG
    assert runtime.current().version == -1


@pytest.mark.django_db(transaction=True)
def test_a_kill_whose_read_back_fails_returns_and_is_still_served(monkeypatch):
    from django.db import DatabaseError

    from featureflags.store import database

    services.create_flag("k", enabled=True)
    assert featureflags.is_enabled("k") is True
    real, failures = database.definitions, []

    def failing_once(*args, **kwargs):
        if not failures:
            failures.append(1)
            raise DatabaseError("the connection dropped right after the commit")
        return real(*args, **kwargs)

    monkeypatch.setattr(database, "definitions", failing_once)
    services.kill("k")  # committed: it must not raise
    assert failures == [1]
    assert wait_until(lambda: featureflags.is_enabled("k") is False, timeout=3)
