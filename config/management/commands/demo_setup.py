"""Load the demo flags and make an admin login (``bin/demo`` runs this); part of the demo site, not the library."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from featureflags import services
from featureflags.formats.config_file import parse_config
from featureflags.models import Source

# The spec's example file (two flags in the features_config.json format), kept with the demo.
DEMO_CONFIG = Path(__file__).resolve().parents[2] / "features_config.json"

CDC_ON = {
    "enabled": True,
    "percentage": 80,
    "bucketing": "crc32",
    "rules": ["01$"],
    "variants": [{"name": "foo", "weight": 1}, {"name": "bar", "weight": 1}],
    "users": ["447568110000"],
    "description": "The example of the hanoi README: 80 %, user 447568110000, rule 01$, variants foo/bar.",
    "owner": "Demo",
}


class Command(BaseCommand):
    help = "Create the demo flags (cdc_on and the flags of features_config.json) and an admin user."
    requires_system_checks = []  # W001 would report the very flags this command creates

    def add_arguments(self, parser):
        parser.add_argument("--config", help="A features_config.json to load (default: config/features_config.json).")
        parser.add_argument("--username", default=os.environ.get("DEMO_ADMIN", "admin"))

    def handle(self, *args, **options):
        definitions = {"cdc_on": CDC_ON}
        config_path = Path(options["config"]) if options["config"] else DEMO_CONFIG
        if config_path.exists():
            definitions.update(parse_config(json.loads(config_path.read_text())))
        report = services.apply_definitions(
            definitions, actor="demo_setup", source=Source.IMPORT, source_detail=config_path.name
        )
        for key, status in report.items():
            self.stdout.write(f"  {key}: {status}")
        self.stdout.write(self.style.SUCCESS(f"Demo flags ready ({len(report)})."))
        self._admin(options["username"])

    def _admin(self, username: str) -> None:
        """Create the admin login once; an existing user keeps its password (it may be a real account)."""
        User = get_user_model()
        host = f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"User {username!r} exists already; its password is unchanged "
                f"(manage.py changepassword {username} sets one).  ->  {host}/admin/"
            )
            return
        password = os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(9)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(self.style.SUCCESS(f"Admin login: {username} / {password}  ->  {host}/admin/"))
