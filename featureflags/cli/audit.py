"""``flags audit verify``: check the audit log's hash chain (an entry rewritten or removed breaks it)."""

from __future__ import annotations

from django.core.management.base import CommandError

from ._common import add_json, print_json

help = "Audit log: verify checks the hash chain, entry by entry (exit status 1 when broken)."


def add_arguments(parser) -> None:
    parser.add_argument("action", choices=("verify",))
    add_json(parser)


def handle(command, options) -> None:
    from featureflags.audit import verify
    from featureflags.models import AuditEntry

    checked, breaks = verify()
    # Removing the newest entries breaks no link: only a head kept elsewhere shows it.
    head = AuditEntry.objects.order_by("-id").values_list("entry_hash", flat=True).first() or ""
    if options["json"]:
        print_json(
            command,
            {
                "checked": checked,
                "head": head,
                "breaks": [{"entry": b.entry_id, "problem": b.problem} for b in breaks],
            },
        )
    if breaks:
        if not options["json"]:
            for problem in breaks[:100]:
                command.stderr.write(str(problem))
        raise CommandError(f"The audit chain is broken in {len(breaks)} place(s) out of {checked} entries.")
    if not options["json"]:
        command.stdout.write(command.style.SUCCESS(f"The audit chain holds: {checked} entries checked."))
        command.stdout.write(f"Head: {head} (keep it outside this database: it shows the newest entries removed)")
