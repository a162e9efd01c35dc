"""Requests/s and p99 of a view with the flags middleware and 10 flag checks,
against the same view without flags (and without the middleware), under gunicorn.

    python -m benchmarks.load [--duration 5] [--rounds 5] [--new-visitors]
    python -m benchmarks.load --short      # 2 s per run, one round (CI)

gunicorn runs the demo site (``benchmarks.load_settings``: its own SQLite file, a
private redis-server on a free port as the flags' mirror) with 4 workers and
``--preload`` on 127.0.0.1; wrk drives it for a fixed time. Runs alternate
(flags then plain, plain then flags, ...); the ratio is the median of the rounds'
ratios, and each side's best round gives its requests/s and latencies.
Needs ``wrk`` (``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import asdict, dataclass

from benchmarks._django import ROOT
from benchmarks._servers import free_port, private_redis, wait_for_port

WORKERS = 4
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


@dataclass
class Run:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx responses and socket errors


def parse_wrk(output: str) -> Run:
    """The figures of ``wrk --latency`` output."""

    def latency(percent: str) -> float:
        match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if match is None:
            raise ValueError(f"no {percent}% latency in wrk's output:\n{output}")
        return float(match[1]) * UNITS[match[2]]

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rate is None or total is None:
        raise ValueError(f"unexpected wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return Run(float(rate[1]), latency("50"), latency("99"), int(total[1]), errors)


def prepare(env: dict[str, str]) -> None:
    """Create the database and the 10 flags (in a child process: this one stays Django-free)."""
    subprocess.run([sys.executable, "-m", "benchmarks.load", "--prepare"], cwd=ROOT, env=env, check=True, timeout=300)


def create_flags() -> None:
    from benchmarks._django import setup

    setup()
    from django.core.management import call_command

    from benchmarks.load_urls import FLAG_KEYS
    from featureflags import services

    call_command("migrate", verbosity=0)
    kinds = [
        {"enabled": True, "percentage": 100},
        {"enabled": True, "percentage": 50},
        {"enabled": True, "percentage": 10, "rules": ["^admin-", "@example\\.com$"]},
        {"enabled": True, "percentage": 0, "users": [str(i) for i in range(1000)]},
        {"enabled": True, "variants": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]},
        {"enabled": False},
        {"enabled": True, "percentage": 30, "stickiness": "anonymous_id"},
        {"enabled": True, "constraints": [{"attribute": "is_staff", "operator": "IN", "values": ["true"]}]},
        {"enabled": True, "percentage": 75, "bucketing": "crc32"},
        {"enabled": True, "percentage": 100, "environments": ["production"]},
    ]
    for key, fields in zip(FLAG_KEYS, kinds):
        users = fields.pop("users", None)
        services.create_flag(key, actor="benchmark", **fields)
        if users:
            services.add_users(key, users, actor="benchmark")


def serve_and_drive(env: dict[str, str], flags: bool, path: str, duration: float, connections: int, cookie: str) -> Run:
    """One gunicorn (4 workers, --preload) and one wrk run against ``path``, sending ``cookie``."""
    port = free_port()
    server_env = {**env, "LOAD_FLAGS": "1" if flags else "0"}
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--preload"]
    command += ["--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    with tempfile.TemporaryFile() as log:  # a pipe nobody reads would block the workers once full
        server = subprocess.Popen(command, cwd=ROOT, env=server_env, start_new_session=True, stderr=log)
        try:
            wait_for_port(port, timeout=60)
            probe(env, f"http://127.0.0.1:{port}{path}", cookie)
            return drive(f"http://127.0.0.1:{port}{path}", duration, connections, cookie)
        finally:
            stop_server(server)
            log.seek(0)
            errors = log.read().decode(errors="replace").strip()
            if errors:
                print(f"gunicorn's log ({path}):\n{errors[-2000:]}", file=sys.stderr)


def probe(env: dict[str, str], url: str, cookie: str) -> None:
    """Check the server's answers (page, cookie, Vary) before timing it: a wrong one stops the run."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.load_answers", url, cookie],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise SystemExit(f"wrong answer from {url}: {done.stderr.strip()[-2000:]}")


def drive(url: str, duration: float, connections: int, cookie: str) -> Run:
    """Warm every worker, then wrk for ``duration`` seconds."""
    for _ in range(WORKERS * 10):
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=10) as answer:
            if answer.status != 200:
                raise RuntimeError(f"{url} answered {answer.status}")
    threads = min(2, connections)
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []

    def wrk(seconds: float) -> str:
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s", "--latency"]
        done = subprocess.run([*command, *headers, url], capture_output=True, text=True, timeout=seconds + 60)
        done.check_returncode()
        return done.stdout

    wrk(1)  # every worker's first requests (snapshot load, threads) are not what is measured
    return parse_wrk(wrk(duration))


def stop_server(server: subprocess.Popen) -> None:
    """Stop the gunicorn we started: its master and its workers (their own process group)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def visitor_cookie(env: dict[str, str]) -> str:
    """The signed anonymous-id cookie a returning visitor sends (made by the site's own code)."""
    code = (
        "from benchmarks._django import setup; setup(); from django.http import HttpResponse;"
        "from featureflags.conf import flag_settings; from featureflags.context import ANONYMOUS_COOKIE_SALT;"
        "name = flag_settings.ANONYMOUS_COOKIE; response = HttpResponse();"
        "response.set_signed_cookie(name, 'loadvisitor', salt=ANONYMOUS_COOKIE_SALT);"
        "print(f'{name}={response.cookies[name].value}')"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    done.check_returncode()
    return done.stdout.strip()


def measure(duration: float, rounds: int, connections: int, new_visitors: bool = False) -> dict[str, object]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    directory = tempfile.mkdtemp(prefix="ff-load-")
    try:
        with private_redis() as redis_server:
            env = dict(os.environ)
            env.update(
                DJANGO_SETTINGS_MODULE="benchmarks.load_settings",
                LOAD_DATABASE=os.path.join(directory, "load.sqlite3"),
                LOAD_REDIS_URL=redis_server.url,
            )
            env.pop("REDIS_URL", None)
            prepare(env)
            cookie = "" if new_visitors else visitor_cookie(env)
            runs: dict[str, list[Run]] = {"flags": [], "plain": []}
            for number in range(rounds):
                order = ("flags", "plain") if number % 2 == 0 else ("plain", "flags")  # neither always goes first
                for side in order:
                    path = f"/{side}/"
                    runs[side].append(serve_and_drive(env, side == "flags", path, duration, connections, cookie))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    best = {side: max(results, key=lambda r: r.requests_per_s) for side, results in runs.items()}
    return {
        "duration_s": duration,
        "rounds": rounds,
        "connections": connections,
        "workers": WORKERS,
        "visitors": "new (no cookie)" if new_visitors else "returning (signed anonymous-id cookie)",
        "flags": asdict(best["flags"]),
        "plain": asdict(best["plain"]),
        # Each round's two runs are back to back: the median of their ratios resists a machine whose load drifts.
        "ratio": statistics.median(f.requests_per_s / p.requests_per_s for f, p in zip(runs["flags"], runs["plain"])),
        "ratio_of_best": best["flags"].requests_per_s / best["plain"].requests_per_s,
        "errors": sum(r.errors for results in runs.values() for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="2 s per run, one round (what CI runs)")
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--new-visitors", action="store_true", help="send no cookie: each request is a new visitor")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        create_flags()
        return
    duration, rounds = (2, 1) if args.short else (args.duration, args.rounds)
    figures = measure(duration, rounds, args.connections, args.new_visitors)
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"gunicorn, {WORKERS} workers, --preload; wrk {args.connections} connections, "
        f"{duration:g} s x {rounds} round(s); {figures['visitors']} visitors"
    )
    print(f"{'view':36} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8}")
    for side, label in (("flags", "middleware + 10 flag checks"), ("plain", "same view, no flags, no middleware")):
        run = figures[side]
        print(f"{label:36} {run['requests_per_s']:11.0f} {run['p50_ms']:8.2f} {run['p99_ms']:8.2f}")
    ratio = figures["ratio"]
    verdict = "met" if ratio >= 0.9 else "NOT met"
    print(f"ratio flags / plain, median of the rounds: {ratio:.3f} (target >= 0.9: {verdict})")
    print(f"ratio of the best rounds: {figures['ratio_of_best']:.3f}")
    print(f"failed requests (non-2xx/3xx or socket errors): {figures['errors']}")


if __name__ == "__main__":
    main()
