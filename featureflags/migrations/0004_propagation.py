import secrets

from django.db import migrations, models


def name_this_deployment(apps, schema_editor):
    """A random id for this database, and a first log row at its current version, so
    processes started before the upgrade catch up from the log instead of reloading."""
    MirrorState = apps.get_model("featureflags", "MirrorState")
    ChangeLog = apps.get_model("featureflags", "ChangeLog")
    state, _ = MirrorState.objects.get_or_create(pk=1, defaults={"version": 0})
    if not state.deployment:
        state.deployment = secrets.token_hex(8)
        state.token = state.token or secrets.token_hex(8)
        state.save(update_fields=["deployment", "token"])
    if state.version > 0:
        ChangeLog.objects.get_or_create(version=state.version, defaults={"token": state.token, "keys": []})


class Migration(migrations.Migration):

    dependencies = [
        ('featureflags', '0003_bucketing_crc32_inv'),
    ]

    operations = [
        migrations.AddField(
            model_name='mirrorstate',
            name='deployment',
            field=models.CharField(blank=True, default='', max_length=32),
        ),
        migrations.AddField(
            model_name='mirrorstate',
            name='token',
            field=models.CharField(blank=True, default='', max_length=32),
        ),
        migrations.CreateModel(
            name='ChangeLog',
            fields=[
                ('version', models.BigIntegerField(primary_key=True, serialize=False)),
                ('token', models.CharField(max_length=32)),
                ('keys', models.JSONField(default=list)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.RunPython(name_this_deployment, migrations.RunPython.noop),
    ]
