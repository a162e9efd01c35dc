"""``manage.py flags references [paths]``: flags used but not defined, and defined but never used.

    python manage.py flags references myapp templates --fail-on-unknown   # in CI

Without paths, scans where the system check W001 looks (``REFERENCE_PATHS``, else
the project's apps and template directories, test files left out). Only literal
keys passed to the product's API, decorators and tags are found.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

help = "Report flags used in code but not defined, and defined but never referenced (file:line)."


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="*", help="Files or directories to scan (default: the project's).")
    parser.add_argument("--fail-on-unknown", action="store_true", help="Exit 1 when code uses an undefined flag.")
    parser.add_argument("--fail-on-unused", action="store_true", help="Exit 1 when a defined flag is never used.")
    parser.add_argument(
        "--defined-in", metavar="FILE", help="Take the defined flags from a JSON file (keys of its object), not the DB."
    )
    parser.add_argument("--json", action="store_true", help="Print JSON.")


def handle(command, options: dict[str, Any]) -> None:
    from django.core.management.base import CommandError

    from featureflags.checks import project_references
    from featureflags.references import find_references

    from ._common import print_json

    paths = options["paths"]
    missing_paths = [p for p in paths if not Path(p).exists()]
    if missing_paths:
        raise CommandError(f"No such file or directory: {', '.join(missing_paths)}")
    references = find_references(paths) if paths else project_references()
    defined = _defined(options.get("defined_in"))
    unknown: dict[str, list] = {}
    for reference in references:
        if reference.key not in defined:
            unknown.setdefault(reference.key, []).append(reference)
    used = {r.key for r in references}
    unused = sorted(key for key in defined if key not in used)
    if options["json"]:
        print_json(
            command,
            {
                "undefined": {
                    key: [{"path": r.path, "line": r.line, "kind": r.kind} for r in places]
                    for key, places in sorted(unknown.items())
                },
                "unreferenced": unused,
                "references": len(references),
            },
        )
    else:
        _print(command, unknown, unused, len(references), len(used))
    if options["fail_on_unknown"] and unknown:
        raise CommandError(f"{len(unknown)} flags are used but not defined: {', '.join(sorted(unknown))}.")
    if options["fail_on_unused"] and unused:
        raise CommandError(f"{len(unused)} flags are defined but never referenced: {', '.join(unused)}.")


def _defined(path: str | None) -> set[str]:
    from django.core.management.base import CommandError

    if path is None:
        from featureflags.models import Flag

        return set(Flag.objects.values_list("key", flat=True))
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"--defined-in {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise CommandError(f"--defined-in {path}: the file must hold a JSON object keyed by flag.")
    return set(data)


def _print(command, unknown: dict[str, list], unused: list[str], count: int, used: int) -> None:
    write = command.stdout.write
    write(f"{count} references to {used} flags.")
    if unknown:
        write(f"Used but not defined ({len(unknown)}):")
        for key, places in sorted(unknown.items()):
            for reference in places:
                write(f"  {reference.path}:{reference.line}: {key} ({reference.kind})")
    if unused:
        write(f"Defined but never referenced ({len(unused)}):")
        for key in unused:
            write(f"  {key}")
    if not unknown and not unused:
        write("Every flag used is defined, and every flag defined is used.")
