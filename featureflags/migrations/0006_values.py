"""Typed values (issue 14): a flag's ``value_type`` and each variant's ``value``.

Existing flags become boolean flags whose variants have no value, which is exactly
what version 1 meant: no decision changes.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("featureflags", "0005_security"),
    ]

    operations = [
        migrations.AddField(
            model_name="flag",
            name="value_type",
            field=models.CharField(
                choices=[("boolean", "Boolean"), ("string", "String"), ("number", "Number"), ("json", "JSON")],
                default="boolean",
                help_text="The type of the variants' values; a boolean flag needs none.",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="variant",
            name="value",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
