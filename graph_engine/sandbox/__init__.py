"""Run untrusted custom code (RestrictedPython) in a separate, resource-limited process.

The host never executes custom code and never changes its own limits. A small pool of warm
worker processes (``sandbox/child.py``, started with ``python -I``, an empty environment and
their own session) compiles the code with RestrictedPython and runs each call in a *fresh fork*
with RLIMIT_CPU, RLIMIT_AS (current size + ``memory_mb``), RLIMIT_FSIZE 0, RLIMIT_NOFILE 8,
RLIMIT_NPROC 0, no core dumps and a low recursion limit; the worker kills it with SIGKILL at
the wall-clock ``timeout`` and the host kills a worker that does not answer in time.

Why a warm pool: starting an interpreter and importing RestrictedPython costs ~100-200 ms; a
fork of the warm worker costs ~1-2 ms, so a call takes a few milliseconds.

The code sees ``context`` (a deep copy: it travels as JSON) and its parts ``event``, ``user``,
``conversation``, ``nodes``, ``workflow``, ``execution``; it returns a value with ``return`` or
by assigning ``result``. Imports of ``json``, ``math``, ``re`` (RE2), ``datetime``, ``random``,
``string`` and ``hashlib`` give hand-written wrappers; anything else is refused.

>>> run_code("return sum(range(user['fields']['n']))", {"user": {"fields": {"n": 5}}})
10
>>> check_code("import os\\nresult = 1")
[]
>>> check_code("x.__class__")
['Line 1: "__class__" is an invalid attribute name because it starts with "_".']
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import selectors
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from graph_engine.errors import (
    SandboxError,
    SandboxResourceError,
    SandboxSecurityError,
    SandboxTimeout,
)
from graph_engine.sandbox.policy import compile_user_code

__all__ = ["run_code", "check_code", "warm_up", "shutdown", "SandboxPool"]

_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py")
_ERRORS = {
    "syntax": SandboxError,
    "error": SandboxError,
    "security": SandboxSecurityError,
    "timeout": SandboxTimeout,
    "resource": SandboxResourceError,
}
_GRACE = 2.0  # seconds the host waits beyond ``timeout`` before killing a silent worker
_START_TIMEOUT = 20.0


class _WorkerDead(Exception):
    pass


class _Worker:
    """One warm sandbox process and its pipes."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-I", _CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={},
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
        self.ready = False
        self._buffer = b""

    def _readline(self, deadline: float, limit: int) -> bytes:
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not sel.select(remaining):
                    if time.monotonic() >= deadline:
                        raise _WorkerDead("timeout")
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise _WorkerDead("the sandbox worker exited")
                self._buffer += chunk
                if len(self._buffer) > limit:
                    raise _WorkerDead("the sandbox worker sent an oversized answer")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def wait_ready(self) -> None:
        if not self.ready:
            if self._readline(time.monotonic() + _START_TIMEOUT, 1024) != b"ready":
                raise _WorkerDead("the sandbox worker failed to start")
            self.ready = True

    def call(self, request: bytes, timeout: float, limit: int) -> dict:
        self.wait_ready()
        try:
            self.proc.stdin.write(request + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise _WorkerDead(f"the sandbox worker is gone: {exc}") from None
        line = self._readline(time.monotonic() + timeout + _GRACE, limit)
        return json.loads(line)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()


class SandboxPool:
    """A thread-safe pool of up to ``size`` warm workers, started on demand."""

    def __init__(self, size: int = 2):
        self.size = size
        self.pid = os.getpid()
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._count = 0
        self._lock = threading.Lock()

    def _acquire(self) -> _Worker:
        while True:
            worker = self._take()
            if worker.proc.poll() is None:
                return worker
            self._discard(worker)  # died while idle (killed from outside): start another

    def _take(self) -> _Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._count < self.size:
                self._count += 1
                return _Worker()
        return self._idle.get(timeout=60)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._count -= 1

    def warm_up(self, n: int = 1) -> None:
        """Start ``n`` workers now and wait until they are ready."""
        workers = [self._acquire() for _ in range(min(n, self.size))]
        for worker in workers:
            worker.wait_ready()
            self._idle.put(worker)

    def call(self, request: bytes, timeout: float, limit: int) -> dict:
        worker = self._acquire()
        try:
            answer = worker.call(request, timeout, limit)
        except BaseException as exc:
            self._discard(worker)
            if isinstance(exc, _WorkerDead) and str(exc) == "timeout":
                raise SandboxTimeout(f"custom code ran longer than {timeout:g} s") from None
            if isinstance(exc, _WorkerDead | ValueError):
                raise SandboxError(f"sandbox failure: {exc}") from None
            raise
        self._idle.put(worker)
        return answer

    def close(self) -> None:
        with self._lock:
            while True:
                try:
                    self._idle.get_nowait().kill()
                except queue.Empty:
                    break
            self._count = 0


_pool: SandboxPool | None = None
_pool_lock = threading.Lock()


def _get_pool() -> SandboxPool:
    global _pool
    with _pool_lock:
        if _pool is None or _pool.pid != os.getpid():  # a forked host gets its own workers
            _pool = SandboxPool(size=int(os.environ.get("GRAPH_ENGINE_SANDBOX_WORKERS", "2")))
        return _pool


def warm_up(n: int = 1) -> None:
    """Start ``n`` sandbox workers ahead of the first call (tests, worker start-up)."""
    _get_pool().warm_up(n)


@atexit.register
def shutdown() -> None:
    """Stop the sandbox workers of this process."""
    if _pool is not None and _pool.pid == os.getpid():
        _pool.close()


def _jsonable(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def run_code(
    code: str, context: dict, *, timeout: float = 2.0, memory_mb: int = 256, max_output: int = 65536
) -> Any:
    """Run ``code`` against a copy of ``context`` in the sandbox; return its JSON-able result.

    Raises :class:`SandboxSecurityError` (forbidden import/attribute/builtin),
    :class:`SandboxTimeout` (CPU or wall clock), :class:`SandboxResourceError` (memory,
    recursion, output) or :class:`SandboxError` (syntax errors, exceptions, bad results).
    """
    if not isinstance(code, str) or not code.strip():
        raise SandboxError("custom code must be a non-empty string")
    request = json.dumps(
        {
            "code": code,
            "context": context,
            "timeout": float(timeout),
            "memory_mb": int(memory_mb),
            "max_output": int(max_output),
        },
        default=_jsonable,
        ensure_ascii=False,
    ).encode("utf-8")
    answer = _get_pool().call(request, float(timeout), int(max_output) + 8192)
    if answer.get("ok"):
        return answer.get("result")
    error = _ERRORS.get(answer.get("kind"), SandboxError)
    raise error(answer.get("message") or "custom code failed")


def check_code(code: str) -> list[str]:
    """RestrictedPython compile errors for ``code`` (syntax and policy); ``[]`` if it compiles.

    Imports are checked when the code runs (the allow-list is enforced at run time).
    """
    return compile_user_code(code)[1]
