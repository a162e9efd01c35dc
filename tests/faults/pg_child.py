"""The process of ``test_database_down``: a Django process on a private PostgreSQL
cluster that it stops and restarts itself (``PG_FAULT_DIR``, ``PG_FAULT_PORT``).

Prints one JSON line with what it saw.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    from benchmarks._django import setup
    from benchmarks._servers import PostgresCluster

    cluster = PostgresCluster(directory=os.environ["PG_FAULT_DIR"], port=int(os.environ["PG_FAULT_PORT"]))
    setup()
    from django.core.management import call_command
    from django.db import DatabaseError, connection
    from django.test import Client

    import featureflags
    from featureflags import services
    from featureflags.api.models import ApiToken
    from featureflags.models import AuditEntry, Flag, FlagUser
    from featureflags.store import runtime

    call_command("migrate", verbosity=0)
    services.create_flag("db_fault", enabled=True, percentage=100, client_side=True, actor="test")
    services.add_users("db_fault", ["1", "2", "3"], actor="test")
    runtime.refresh()
    _, seen_key = ApiToken.objects.issue("seen", "evaluate")
    _, unseen_key = ApiToken.objects.issue("unseen", "evaluate")
    api = Client()
    signed = f"/api/flags/client?user_id=42&user_hash={featureflags.secure_hash('42')}"  # secure mode
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {seen_key}"}
    api_before = api.get(signed, **bearer).status_code
    before = {
        "audit": AuditEntry.objects.count(),
        "users": FlagUser.objects.count(),
        "percentage": Flag.objects.get(key="db_fault").percentage,
    }

    cluster.stop()
    result: dict = {"checks": [], "pages": [], "writes": []}
    for _ in range(50):
        result["checks"].append(featureflags.is_enabled("db_fault", "42"))
    client = Client()
    for _ in range(5):
        result["pages"].append(client.get("/").status_code)
    answer = api.get(signed, **bearer)
    result["api_seen"] = {"before": api_before, "status": answer.status_code, "body": answer.json()}
    answer = api.get(signed, HTTP_AUTHORIZATION=f"Bearer {unseen_key}")
    result["api_unseen"] = {"status": answer.status_code, "body": answer.json(), "retry": answer.get("Retry-After")}
    deadline = time.monotonic() + 5  # the sync thread notices within MAX_STALENESS (1 s here)
    while featureflags.status()["database_ok"] is not False and time.monotonic() < deadline:
        time.sleep(0.05)
    answer = Client().get("/flags-health/")
    result["health"] = {"status": answer.status_code, "body": answer.json()}
    attempts = [
        lambda: services.set_percentage("db_fault", 10, actor="test"),
        lambda: services.add_users("db_fault", [str(i) for i in range(100, 2100)], actor="test"),
        lambda: services.create_flag("born_in_outage", enabled=True, actor="test"),
    ]
    for attempt in attempts:
        try:
            attempt()
            result["writes"].append({"error": None})
        except DatabaseError as exc:
            result["writes"].append({"error": type(exc).__name__, "message": str(exc)[:200]})
        except Exception as exc:  # anything else is not a clear database error
            result["writes"].append({"error": f"unexpected {type(exc).__name__}", "message": str(exc)[:200]})
    result["checks_after_writes"] = featureflags.is_enabled("db_fault", "42")

    cluster.start()
    connection.close()
    result["before"] = before
    result["after"] = {
        "audit": AuditEntry.objects.count(),
        "users": FlagUser.objects.count(),
        "percentage": Flag.objects.get(key="db_fault").percentage,
        "born": Flag.objects.filter(key="born_in_outage").exists(),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
