"""The sandbox worker ("zygote"): runs custom code in forked, resource-limited grandchildren.

Started by :mod:`graph_engine.sandbox` as ``python -I sandbox/child.py`` with an empty
environment, in its own session. Protocol: one JSON request per line on stdin
(``{"code", "context", "timeout", "memory_mb", "max_output"}``), one JSON response per line on
stdout (``{"ok": true, "result": ...}`` or ``{"ok": false, "kind", "message"}``, where kind is
``syntax`` / ``security`` / ``timeout`` / ``resource`` / ``error``). It writes ``ready`` first.

Why fork per request: RLIMIT_CPU counts a process's whole life, so a reused process would
accumulate CPU time; a fork of this small, warm, single-threaded process costs ~1-2 ms and gives
every run fresh limits (CPU, address space, file size 0, few fds, no processes, no core) that
never touch the host. The zygote compiles (RestrictedPython, cached by source) before forking,
enforces the wall-clock limit with SIGKILL and caps how many bytes it reads back.
Standalone on purpose: imports only the standard library and ``sandbox/policy.py``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import resource
import select
import signal
import sys
import time

policy = None  # the sandbox/policy.py module, loaded by path below

_MEMORY_FAIL = '{"ok":false,"kind":"resource","message":"custom code exceeded its memory limit"}'
_RECURSION_LIMIT = 250


def _fail(kind: str, message: str) -> str:
    return json.dumps({"ok": False, "kind": kind, "message": message[:2000]})


def _describe(exc: BaseException) -> str:
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == policy.FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    where = f"line {line}: " if line else ""
    return f"{where}{type(exc).__name__}: {exc}"


def _call(code_obj, request: dict):
    """Run the compiled code; ``(value, None)`` or ``(None, failure-json)``."""
    glb = policy.make_globals(request["max_output"])
    context = request["context"]
    args = [context] + [
        context.get(k) if isinstance(context, dict) else None for k in policy.PARAMS[1:]
    ]
    try:
        exec(code_obj, glb)
        return glb["main"](*args), None
    except policy.SecurityViolation as exc:
        return None, _fail("security", str(exc))
    except policy.OutputLimit as exc:
        return None, _fail("resource", str(exc))
    except MemoryError:
        return None, _MEMORY_FAIL
    except RecursionError:
        return None, _fail("resource", "custom code exceeded the recursion limit")
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt... all fail the run
        return None, _fail("error", _describe(exc))


def execute(code_obj, request: dict) -> str:
    """The response JSON for one run (in the limited grandchild)."""
    policy.VIOLATIONS.clear()
    value, failure = _call(code_obj, request)
    if policy.VIOLATIONS:  # even when the code caught the exception
        return _fail("security", policy.VIOLATIONS[0])
    if failure:
        return failure
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    except RecursionError:
        return _fail("resource", "the result is nested too deeply")
    except (TypeError, ValueError) as exc:
        return _fail("error", f"the result is not JSON-serialisable: {exc}")
    size = len(encoded.encode("utf-8"))
    if size > request["max_output"]:
        return _fail(
            "resource", f"the result is {size} bytes of JSON; the limit is {request['max_output']}"
        )
    return '{"ok":true,"result":' + encoded + "}"


def _vm_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _limit(kind: int, value: int) -> None:
    with contextlib.suppress(ValueError, OSError):  # keep going with the other limits
        resource.setrlimit(kind, (value, value))


def _apply_limits(request: dict) -> None:
    cpu = max(1, math.ceil(request["timeout"]))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    _limit(resource.RLIMIT_AS, _vm_bytes() + request["memory_mb"] * 1024 * 1024)
    _limit(resource.RLIMIT_FSIZE, 0)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_NOFILE, 8)
    _limit(resource.RLIMIT_NPROC, 0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    sys.setrecursionlimit(_RECURSION_LIMIT)


def _grandchild(code_obj, request: dict, out_fd: int) -> None:
    try:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, out_fd)
        os.closerange(out_fd + 1, 65536)
        _apply_limits(request)
        payload = execute(code_obj, request)
    except MemoryError:
        payload = _MEMORY_FAIL
    except BaseException as exc:  # noqa: BLE001
        payload = _fail("error", f"sandbox failure: {type(exc).__name__}: {exc}")
    try:
        data = payload.encode("utf-8")
        while data:
            data = data[os.write(out_fd, data) :]
    finally:
        os._exit(0)


def _read(fd: int, deadline: float, limit: int):
    """``(bytes, None)`` at EOF, or ``(None, "timeout" | "too_big")``."""
    chunks, size = [], 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, "timeout"
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks), None
        size += len(chunk)
        if size > limit:
            return None, "too_big"
        chunks.append(chunk)


def _classify(data, problem, status, request) -> str:
    if problem == "timeout":
        return _fail("timeout", f"custom code ran longer than {request['timeout']:g} s")
    if problem == "too_big":
        return _fail("resource", "custom code produced too much output")
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in (signal.SIGXCPU, signal.SIGKILL):
            return _fail("timeout", "custom code used up its CPU time limit")
        return _fail("resource", f"custom code crashed (signal {sig}): out of memory or stack?")
    if data and b"\n" not in data:
        try:
            response = json.loads(data)
        except ValueError:
            response = None
        if isinstance(response, dict) and "ok" in response:
            return data.decode("utf-8")
    return _fail("error", f"custom code exited without a result (status {status})")


def serve(request: dict, cache: dict) -> str:
    code = request["code"]
    if code not in cache:
        if len(cache) > 256:
            cache.clear()
        cache[code] = policy.compile_user_code(code)
    code_obj, errors = cache[code]
    if errors:
        kind = "syntax" if all("SyntaxError" in e for e in errors) else "security"
        return _fail(kind, "; ".join(errors))
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _grandchild(code_obj, request, write_fd)
    os.close(write_fd)
    deadline = time.monotonic() + request["timeout"]
    try:
        data, problem = _read(read_fd, deadline, request["max_output"] + 4096)
    finally:
        os.close(read_fd)
    if problem:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return _classify(data, problem, status, request)


def _warm_up(cache: dict) -> None:
    """Import lazily-loaded modules before any limits apply (few fds, no files)."""
    from datetime import datetime

    datetime.strptime("2024-01-02", "%Y-%m-%d")
    json.loads(json.dumps({"a": [1.5]}))
    code_obj, _ = policy.compile_user_code("import re\nresult = re.search('a', 'a') is not None")
    exec(code_obj, policy.make_globals(100))


def main() -> None:
    cache: dict = {}
    _warm_up(cache)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    out.write(b"ready\n")
    out.flush()
    for line in inp:
        try:
            response = serve(json.loads(line), cache)
        except Exception as exc:  # noqa: BLE001 - a bad request must not kill the worker
            response = _fail("error", f"sandbox worker error: {type(exc).__name__}: {exc}")
        out.write(response.encode("utf-8") + b"\n")
        out.flush()


_PACKAGE = "graph_engine.sandbox"


def _load(name: str):
    """Import a sibling file by path under its dotted name (``python -I`` puts no project
    directory on sys.path, and importing ``graph_engine`` would load the whole engine: the
    worker stays on the standard library, RestrictedPython and these two files)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    name = f"{_PACKAGE}.{name}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    _load("modules")  # policy.py imports it relatively: graph_engine.sandbox.modules
    policy = _load("policy")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    main()
