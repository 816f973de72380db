"""Single-event ingestion under the production web server alone: CPU µs per request per process.

No worker: a fresh PostgreSQL database, a private redis-server and the web server (gunicorn as
the checkout's ``gunicorn.conf.py`` configures it, as in ``bench/throughput.py``); ``wrk``
posts one event per request to ``/triggers/process_event/``. CPU is read from /proc for the
web process, the bench database's PostgreSQL backends and redis-server, so the web's share
(HTTP server, threads and the app) shows apart from the app alone (``bench/request_path.py``).
PostgreSQL's column counts the backends alive at both ends of a round: one that a pool opened
and closed within the round is missed.

    .venv/bin/python bench/web_ingest.py [--seconds 5] [--conns 8] [--rounds 3]
        [--root CHECKOUT --root OTHER_CHECKOUT] [--env WEB_THREADS=8 ...] [--py-spy out.txt]

Several ``--root`` (each ``PATH``, or ``PATH::NAME=VALUE::...`` with settings of its own such
as ``--root .::WEB_THREADS=4 --root .``): each gets its own stack, all started at once, and
the rounds alternate between them, so they see about the same load from the rest of the
machine. Prints a table per root (round, requests/s, CPU µs per request of web / PostgreSQL /
Redis, medians); with two roots, the median of their round-by-round web CPU ratio.
``--py-spy`` records the first web process during one more round (raw format, ``--gil``).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import procs  # noqa: E402
from stack import HERE, Tree  # noqa: E402
from throughput import wrk  # noqa: E402

KINDS = ("web", "postgres", "redis")


def one_round(tree: Tree, token: str, seconds: float, conns: int) -> dict:
    before = {k: procs.cpu_seconds(tree.pids(k)) for k in KINDS}
    load = wrk(tree, token, seconds, conns=conns)
    after = {k: procs.cpu_seconds(tree.pids(k)) for k in KINDS}
    n = max(load["requests"], 1)
    cpu = {k: procs.cpu_delta(before[k], after[k]) * 1e6 / n for k in KINDS}
    return {"rps": load["rps"], "non2xx": load["non2xx"], **cpu}


def record(tree: Tree, token: str, seconds: float, conns: int, out: str) -> None:
    """py-spy on the web process (gunicorn's worker) while one more round runs."""
    pid = max(tree.pids("web"))  # the worker is forked after the arbiter
    spy = shutil.which("py-spy") or str(HERE / ".venv/bin/py-spy")
    argv = [spy, "record", "--pid", str(pid), "--format", "raw", "--gil", "-o", out]
    argv += ["--duration", str(int(seconds)), "--rate", "250"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wrk(tree, token, seconds, conns=conns)
    finally:
        proc.wait(seconds + 30)


def start(root: Path, env: list[str]) -> tuple[Tree, str]:
    tree = Tree(root)
    tree.config.update(dict(item.split("=", 1) for item in env))
    tree.start_redis()
    tree.create_database()
    token = tree.seed()
    tree.start_web()
    return tree, token


def stop(tree: Tree) -> None:
    for kind in list(tree.procs):
        tree.stop(kind, signal.SIGKILL)
    tree.drop_database()
    shutil.rmtree(tree.instance, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--conns", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--root", action="append", help="a checkout to serve (repeatable)")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the web")
    parser.add_argument("--py-spy", dest="spy", help="record the (first) web process here")
    args = parser.parse_args()
    specs = [_spec(r, args.env) for r in args.root or [str(HERE)]]
    stacks: list[tuple[Tree, str]] = []
    rows: dict[str, list[dict]] = {label: [] for label, *_ in specs}
    try:
        for _, root, env in specs:
            stacks.append(start(root, env))
        for tree, token in stacks:
            wrk(tree, token, 2, conns=args.conns)  # warm up
        for _ in range(args.rounds):  # rounds alternate between the checkouts: same noise
            for (label, *_), (tree, token) in zip(specs, stacks, strict=True):
                rows[label].append(one_round(tree, token, args.seconds, args.conns))
        if args.spy:
            record(*stacks[0], args.seconds, args.conns, args.spy)
    finally:
        for tree, _ in stacks:
            stop(tree)
    for label, got in rows.items():
        print_table(label, args, got)
    if len(rows) == 2:
        (first, a), (second, b) = rows.items()
        ratios = [x["web"] / y["web"] for x, y in zip(a, b, strict=True)]
        print(
            f"\nweb CPU per request, {first} / {second}, round by round: median x"
            f"{statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)})"
        )


def _spec(arg: str, env: list[str]) -> tuple[str, Path, list[str]]:
    """``PATH[::NAME=VALUE::...]``: a checkout and settings of its own for its web server."""
    path, *own = arg.split("::")
    return arg, Path(path).resolve(), [*env, *own]


def print_table(label: str, args, rows: list[dict]) -> None:
    print(f"\n{label} {' '.join(args.env)} ({args.conns} connections)")
    print("| round | requests/s | non-2xx | web µs/req | postgres µs/req | redis µs/req |")
    print("|---:|---:|---:|---:|---:|---:|")
    for i, r in enumerate(rows, 1):
        print(
            f"| {i} | {r['rps']:.0f} | {r['non2xx']} | {r['web']:.0f} | {r['postgres']:.0f} "
            f"| {r['redis']:.0f} |"
        )
    med = {k: statistics.median(r[k] for r in rows) for k in ("rps", *KINDS)}
    print(
        f"| median | {med['rps']:.0f} | | {med['web']:.0f} | {med['postgres']:.0f} "
        f"| {med['redis']:.0f} |"
    )


if __name__ == "__main__":
    main()
