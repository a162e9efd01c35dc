"""A Django worker process for the two-process guardrail test, driven line by line on stdin.

    python -m tests.guardrails.worker setup KEY THRESHOLD   # migrate, create the flag, exit
    python -m tests.guardrails.worker serve KEY             # then: report N | state | quit

Each answer is one JSON line on stdout.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    import django

    django.setup()
    command, key = sys.argv[1], sys.argv[2]
    if command == "setup":
        from django.core.management import call_command

        from featureflags import services

        call_command("migrate", verbosity=0)
        services.create_flag(key, enabled=True, error_threshold=int(sys.argv[3]), error_window_seconds=60)
        return
    import featureflags
    from featureflags.store import runtime

    featureflags.is_enabled(key)  # load the snapshot and start the threads
    answer({"ready": True})
    for line in sys.stdin:
        verb, *args = line.split()
        if verb == "report":
            answer({"counted": sum(featureflags.report_error(key) for _ in range(int(args[0])))})
        elif verb == "state":
            answer({"enabled": featureflags.is_enabled(key), "version": runtime.current().version, "t": time.time()})
        elif verb == "quit":
            break


def answer(data: dict) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
