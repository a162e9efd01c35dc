"""``manage.py flags <subcommand>``: each subcommand lives in ``featureflags/cli/``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from featureflags.cli import subcommands


class Command(BaseCommand):
    help = "Manage feature flags: list, show, create, enable, kill, explain, import, export, ..."
    # Operators reach for this at 3 a.m.: W001's code scan is noise here (run `check` for it).
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--actor", help="Who to name in the audit log (default: cli:<login>).")
        sub = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        for name, module in subcommands().items():
            child = sub.add_parser(name, help=module.help, description=module.help)
            module.add_arguments(child)

    def handle(self, *args, **options):
        module = subcommands().get(options["subcommand"])
        if module is None:
            raise CommandError(f"Unknown subcommand {options['subcommand']!r}.")
        module.handle(self, options)
