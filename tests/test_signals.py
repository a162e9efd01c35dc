from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from featureflags import services
from featureflags.models import Flag
from featureflags.signals import flag_changed


@pytest.fixture
def heard():
    calls = []

    def receiver(sender, keys, **kwargs):
        calls.append((sender, keys))

    flag_changed.connect(receiver)
    yield calls
    flag_changed.disconnect(receiver)


@pytest.mark.django_db
def test_flag_changed_is_sent_after_commit_for_every_change(heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.create_flag("a")
        assert heard == []  # not before the commit
    with django_capture_on_commit_callbacks(execute=True):
        services.set_enabled("a", True)
        services.set_enabled("a", True)  # no change: no signal
        services.add_users("a", ["1", "2"])
        services.apply_definitions({"b": {"enabled": True}})
        services.delete_flag("b")
    assert heard == [(Flag, ["a"]), (Flag, ["a"]), (Flag, ["a"]), (Flag, ["b"]), (Flag, ["b"])]


@pytest.mark.django_db
def test_a_refused_write_sends_nothing_and_a_failing_receiver_is_only_logged(heard, django_capture_on_commit_callbacks):
    def broken(sender, keys, **kwargs):
        raise RuntimeError("receiver bug")

    flag_changed.connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.create_flag("a")
            with pytest.raises(ValidationError):
                services.set_percentage("a", 101)
    finally:
        flag_changed.disconnect(broken)
    assert heard == [(Flag, ["a"])]
