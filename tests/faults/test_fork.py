"""A worker forked after start-up (gunicorn --preload) gets its own listener and
sees changes made afterwards."""

from __future__ import annotations

import os
import select
import time

import pytest

import featureflags
from featureflags import services
from featureflags.store import runtime

from .conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def child(ready_w: int, result_w: int) -> int:
    """In the forked worker: report readiness, then wait for the flag to turn on."""
    os.write(ready_w, str(int(runtime.status()["thread_alive"])).encode())
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        if featureflags.is_enabled("forked", "42"):
            os.write(result_w, b"seen")
            return 0
        time.sleep(0.01)
    os.write(result_w, b"never")
    return 1


def read(fd: int, timeout: float) -> bytes:
    ready, _, _ = select.select([fd], [], [], timeout)
    return os.read(fd, 100) if ready else b""


def test_forked_worker_gets_updates(private_redis_flags):
    services.create_flag("forked", enabled=False, actor="test")
    runtime.refresh()
    wait_until(lambda: runtime.status()["thread_alive"] and runtime.status()["redis_ok"], timeout=5)
    assert featureflags.is_enabled("forked", "42") is False

    ready_r, ready_w = os.pipe()
    result_r, result_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns into pytest
        code = 1
        try:
            code = child(ready_w, result_w)
        finally:
            os._exit(code)
    try:
        thread_alive = read(ready_r, timeout=10)
        assert thread_alive == b"1", "the forked worker has no listener thread of its own"
        time.sleep(0.3)  # let the child subscribe; a lost message would still arrive by the version check
        services.set_enabled("forked", True, actor="test")
        assert read(result_r, timeout=10) == b"seen"
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        for fd in (ready_r, ready_w, result_r, result_w):
            os.close(fd)
