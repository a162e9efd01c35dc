"""The audit log cannot be rewritten: a hash chain everywhere, a trigger on PostgreSQL,
token creation and revocation audited, and ``flags audit verify`` to check it all."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from featureflags import audit, services
from featureflags.api.models import ApiToken
from featureflags.models import AuditEntry

pytestmark = pytest.mark.django_db
ON_POSTGRES = connection.vendor == "postgresql"


@pytest.fixture
def history():
    services.create_flag("a", actor="alice", percentage=30, metadata={"ratio": 2.0, "big": 10**15, "text": "é"})
    services.update_flag("a", {"enabled": True, "performance_baseline": 1.5}, actor="bob")
    services.create_flag("b", actor="alice")
    services.delete_flag("b", actor="carol")
    return list(AuditEntry.objects.order_by("id"))


def test_each_entry_carries_the_hash_of_the_one_before(history):
    assert history[0].prev_hash == ""
    for previous, entry in itertools.pairwise(history):
        assert entry.prev_hash == previous.entry_hash
        assert len(entry.entry_hash) == 64
    assert audit.verify() == (len(history), [])


def test_verify_command_reports_a_holding_chain(history, capsys):
    call_command("flags", "audit", "verify")
    out = capsys.readouterr().out
    assert f"{len(history)} entries checked" in out
    assert f"Head: {history[-1].entry_hash}" in out  # to keep elsewhere: removing the newest breaks no link


def test_token_creation_and_revocation_are_audited():
    ApiToken.objects.issue("ci", "read", created_by="alice", source="cli")
    ApiToken.objects.revoke("ci", actor="bob", source="cli")
    entries = list(AuditEntry.objects.filter(source_detail="token:ci").order_by("id"))
    assert [(e.action, e.actor) for e in entries] == [("token_create", "alice"), ("token_revoke", "bob")]
    assert entries[0].after == {"token": "ci", "scope": "read", "hint": entries[0].after["hint"], "revoked": False}
    assert "ff_" not in str(entries[0].after) or entries[0].after["hint"].startswith("ff_")  # only the hint
    assert len(entries[0].after["hint"]) == 8
    assert entries[1].after["revoked"] is True
    assert audit.verify()[1] == []


def test_the_cli_revocation_is_audited(capsys):
    call_command("flags", "--actor", "ops", "tokens", "create", "deploy", "--scope", "write")
    call_command("flags", "--actor", "ops", "tokens", "revoke", "deploy")
    assert list(AuditEntry.objects.filter(source_detail="token:deploy").values_list("action", flat=True)) == [
        "token_revoke",
        "token_create",
    ]  # newest first


def test_the_orm_refuses_updates_and_deletes(history):
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=history[0].pk).update(note="x")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()
    with pytest.raises(TypeError):
        history[0].save()


@pytest.mark.skipif(not ON_POSTGRES, reason="the trigger is PostgreSQL's; SQLite keeps the ORM guard")
def test_postgresql_refuses_update_and_delete_below_the_orm(history):
    for statement in (
        "UPDATE featureflags_auditentry SET note = 'rewritten' WHERE id = %s",
        "DELETE FROM featureflags_auditentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [history[1].pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry._base_manager.filter(pk=history[1].pk).update(actor="mallory")  # the issue's bypass
    assert audit.verify()[1] == []


@pytest.mark.skipif(not ON_POSTGRES, reason="the trigger is PostgreSQL's")
def test_postgresql_lets_a_purge_clear_the_link_only(history):
    services.purge_flag("b", actor="carol")
    assert AuditEntry.objects.filter(flag_key="b").exclude(flag=None).count() == 0
    assert audit.verify()[1] == []


@pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL's trigger refuses the rewrite itself")
def test_a_rewrite_below_the_orm_breaks_the_chain(history):
    AuditEntry._base_manager.filter(pk=history[1].pk).update(actor="mallory")
    checked, breaks = audit.verify()
    assert checked == len(history)
    assert [(b.entry_id, "rewritten" in b.problem) for b in breaks] == [(history[1].pk, True)]
    with pytest.raises(CommandError, match="broken in 1 place"):
        call_command("flags", "audit", "verify")


@pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL's trigger refuses the delete itself")
def test_a_removed_entry_breaks_the_chain(history):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM featureflags_auditentry WHERE id = %s", [history[1].pk])
    breaks = audit.verify()[1]
    assert [(b.entry_id, "removed" in b.problem) for b in breaks] == [(history[2].pk, True)]


@pytest.mark.skipif(ON_POSTGRES, reason="the migration backfills before it installs the trigger")
def test_the_migration_backfill_chains_entries_written_before_the_chain(history):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE featureflags_auditentry SET prev_hash = '', entry_hash = ''")
    assert len(audit.verify()[1]) > 0
    audit.backfill(AuditEntry)
    assert audit.verify() == (len(history), [])
