"""Security (issue 15): client-side flags, archiving, the audit hash chain and, on PostgreSQL,
a trigger that refuses UPDATE and DELETE on the audit table (SQLite keeps the ORM guard).

The one UPDATE allowed is the one a purge makes: clearing an entry's link to the purged
flag row, every other column unchanged (the hash does not cover the link).
"""

import django.db.models.manager
import django.utils.timezone
from django.db import migrations, models

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION featureflags_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.flag_id IS NULL
       AND (to_jsonb(NEW) - 'flag_id') = (to_jsonb(OLD) - 'flag_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'featureflags: the audit log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS featureflags_audit_append_only ON featureflags_auditentry;
CREATE TRIGGER featureflags_audit_append_only BEFORE UPDATE OR DELETE ON featureflags_auditentry
    FOR EACH ROW EXECUTE FUNCTION featureflags_audit_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS featureflags_audit_append_only ON featureflags_auditentry;
DROP FUNCTION IF EXISTS featureflags_audit_append_only();
"""


def chain_existing_entries(apps, schema_editor):
    from featureflags.audit import backfill

    backfill(apps.get_model("featureflags", "AuditEntry"))


def install_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)


def remove_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("featureflags", "0004_propagation"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="flag",
            options={
                "base_manager_name": "all_objects",
                "default_manager_name": "objects",
                "ordering": ["key"],
                "permissions": [("kill_flag", "Can use the kill switch")],
            },
        ),
        migrations.AlterModelManagers(
            name="flag",
            managers=[
                ("all_objects", django.db.models.manager.Manager()),
                ("objects", django.db.models.manager.Manager()),
            ],
        ),
        migrations.AddField(
            model_name="auditentry",
            name="entry_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="flag",
            name="archived_at",
            field=models.DateTimeField(blank=True, db_index=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="flag",
            name="archived_by",
            field=models.CharField(blank=True, editable=False, max_length=200),
        ),
        migrations.AddField(
            model_name="flag",
            name="client_side",
            field=models.BooleanField(
                default=False, help_text="Exposed to browsers through the client endpoint and featureflags.js."
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.RunPython(chain_existing_entries, migrations.RunPython.noop),
        migrations.RunPython(install_trigger, remove_trigger),
    ]
