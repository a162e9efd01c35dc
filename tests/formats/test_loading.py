"""The loader: all or nothing across flags and lists, progress over the ids."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from featureflags import services
from featureflags.formats.loading import load
from featureflags.models import AuditEntry, Flag, FlagUser

pytestmark = pytest.mark.django_db


def test_a_bad_id_in_a_list_changes_nothing():
    services.create_flag("kept", percentage=10)
    definitions = {"kept": {"percentage": 20, "users": ["1"]}, "new": {"users": ["ok", "bad\x00id"]}}
    with pytest.raises(ValidationError):
        load(definitions)
    assert Flag.objects.get(key="kept").percentage == 10
    assert not Flag.objects.filter(key="new").exists() and not FlagUser.objects.exists()


def test_progress_wraps_each_changed_list():
    seen = []

    def progress(ids, total, label):
        seen.append((label, total))
        return ids

    load({"a": {"users": ["1", "2"], "excluded_users": ["3"]}, "b": {"enabled": True}}, progress=progress)
    assert seen == [("a users", 2), ("a excluded_users", 1)]
    seen.clear()
    load({"a": {"users": ["1", "2"], "excluded_users": ["3"], "percentage": 5}}, progress=progress)
    assert seen == []  # only the percentage changed: the lists are left alone
    assert AuditEntry.objects.filter(flag_key="a", action__startswith="replace_").count() == 2
