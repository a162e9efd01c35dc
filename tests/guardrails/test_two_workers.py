"""Two Django processes on the real Redis: their errors add up, one trips, both see the flag off."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from featureflags.guardrails.notifiers import SIGNATURE_HEADER, signature

from .webhook_server import WebhookServer

ROOT = Path(__file__).resolve().parents[2]
KEY = "new_checkout"
THRESHOLD = 10
# A change reaches another process through pub/sub; MAX_STALENESS (0.2 s here) if a message is lost.
PROPAGATION_BOUND = 1.0


class Worker:
    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.guardrails.worker", "serve", KEY],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, line: str) -> dict:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.read()

    def read(self) -> dict:
        line = self.process.stdout.readline()
        assert line, f"worker exited with {self.process.poll()}"
        return json.loads(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write("quit\n")
                self.process.stdin.flush()
                self.process.wait(timeout=5)
            except Exception:
                self.process.kill()


def guardrail_entries(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT action, actor, note, source_detail, at FROM featureflags_auditentry "
            "WHERE flag_key = ? AND source = 'guardrail'",
            (KEY,),
        ).fetchall()


@pytest.mark.slow
@pytest.mark.redis
def test_two_processes_trip_the_error_guardrail_once(redis_url, key_prefix, tmp_path):
    database = tmp_path / "workers.sqlite3"
    with WebhookServer() as server:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.guardrails.worker_settings",
            "DATABASE_URL": f"sqlite:///{database}",
            "REDIS_URL": redis_url,
            "FEATUREFLAGS_KEY_PREFIX": key_prefix,
            "WEBHOOK_URL": server.url,
            "PYTHONPATH": str(ROOT),
        }
        subprocess.run(
            [sys.executable, "-m", "tests.guardrails.worker", "setup", KEY, str(THRESHOLD)],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )
        workers = [Worker(env), Worker(env)]
        try:
            assert all(w.read() == {"ready": True} for w in workers)
            assert all(w.ask("state")["enabled"] for w in workers)
            # 6 + 6 errors from two processes: only their sum is over the threshold of 10.
            assert workers[0].ask("report 6") == {"counted": 6}
            time.sleep(0.3)  # flushed by now: alone, 6 is not enough
            assert all(w.ask("state")["enabled"] for w in workers)
            assert guardrail_entries(database) == []
            assert workers[1].ask("report 6") == {"counted": 6}
            seen_off: dict[int, float] = {}
            deadline = time.monotonic() + 10
            while len(seen_off) < 2 and time.monotonic() < deadline:
                for number, worker in enumerate(workers):
                    state = worker.ask("state")
                    if not state["enabled"]:
                        seen_off.setdefault(number, state["t"])
                time.sleep(0.005)
            assert len(seen_off) == 2, "the flag was not switched off in both processes"
            # More errors after the trip are not counted (the flag is off) and trip nothing.
            assert all(w.ask("report 20") == {"counted": 0} for w in workers)
            time.sleep(0.5)
        finally:
            for worker in workers:
                worker.stop()
    entries = guardrail_entries(database)
    assert len(entries) == 1, entries
    action, actor, note, detail, at = entries[0]
    assert (action, actor) == ("guardrail_errors", "guardrail")
    assert "12 errors in the last 60 s exceeded the threshold of 10" in note
    assert "count=12" in detail and "threshold=10" in detail
    written = datetime.fromisoformat(at)
    switched_off_at = (written if written.tzinfo else written.replace(tzinfo=UTC)).timestamp()
    lags = [seen - switched_off_at for seen in seen_off.values()]
    print(f"seen off {', '.join(f'{lag * 1000:.0f} ms' for lag in sorted(lags))} after the audit entry")
    assert max(lags) <= PROPAGATION_BOUND, lags
    [(headers, body)] = server.calls
    assert headers[SIGNATURE_HEADER] == signature(body, "s3cret")
    assert json.loads(body)["flag"] == KEY and json.loads(body)["count"] == 12
