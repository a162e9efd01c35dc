"""Private servers on loopback ports of their own, for benchmarks and fault tests.

The shared Redis (6379) and PostgreSQL (5432) are never stopped or flushed: a
benchmark or test that needs to kill a server starts its own here.

    with private_redis() as server:
        client = redis.Redis.from_url(server.url)
        server.stop()    # Redis "dies"
        server.start()   # and comes back, empty, on the same port
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Return once something accepts connections on ``port``; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing answers on 127.0.0.1:{port} after {timeout} s")


def stop_process(process: subprocess.Popen | None, timeout: float = 5.0) -> None:
    """SIGKILL one process we started and reap it (no grace: a crash is what is simulated)."""
    if process is None or process.poll() is not None:
        return
    process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)


class RedisServer:
    """A redis-server (or sentinel) of our own, without persistence, on its own port."""

    def __init__(self, port: int | None = None, extra: list[str] | None = None, sentinel_conf: str = "") -> None:
        self.port = port or free_port()
        self.extra = extra or []
        self.sentinel_conf = sentinel_conf
        self.directory = tempfile.mkdtemp(prefix="ff-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        args = [binary]
        if self.sentinel_conf:
            conf = Path(self.directory) / "sentinel.conf"
            conf.write_text(f"port {self.port}\nbind 127.0.0.1\n{self.sentinel_conf}")
            args = [binary, str(conf), "--sentinel"]
        else:
            args += ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", self.directory, *self.extra]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.port, timeout)
        except TimeoutError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def private_redis() -> Iterator[RedisServer]:
    """A running private redis-server, killed and removed on exit."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.cleanup()


def postgres_bin() -> Path | None:
    """The directory of initdb/pg_ctl of the newest installed PostgreSQL, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


class PostgresCluster:
    """A throw-away PostgreSQL cluster (initdb under a temp dir, trust auth, its own port).

    initdb refuses to run as root, so as root the cluster belongs to the ``postgres`` user.
    """

    def __init__(self, directory: str | None = None, port: int | None = None) -> None:
        """A new cluster, or (``directory``, ``port``) one that another process created."""
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.port = port or free_port()
        self.directory = directory or tempfile.mkdtemp(prefix="ff-pg-")
        os.chmod(self.directory, 0o777)
        self.data = os.path.join(self.directory, "data")
        self.running = directory is not None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, timeout=timeout, capture_output=True)

    def start(self) -> PostgresCluster:
        if not os.path.exists(self.data):
            self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        self._run("pg_ctl", "-D", self.data, "-o", options, "-w", "-t", "30", "start", "-l", f"{self.data}.log")
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "-t", "30", "stop")
            self.running = False

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
