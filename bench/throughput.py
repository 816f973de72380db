"""End-to-end throughput, latency, CPU per event and memory: HTTP ingestion -> coupon run done.

The load comes from ``wrk`` (C, its own process; installed with apt when missing) posting
events through ``bench/post_events.lua`` to the web app under gunicorn (as the tree's
``gunicorn.conf.py`` configures it); PostgreSQL and a private redis-server; 1 and then 2 worker
processes (``python -m backend worker``, or the Flask CLI in a tree without it). Every process
is tagged through its environment, so CPU seconds (``/proc/<pid>/stat``) and memory are summed
per kind: web, worker, PostgreSQL (the bench database's backends), Redis.

    .venv/bin/python bench/throughput.py [--seconds 5] [--workers 1,2] [--ref main [--repeat 2]]

``--ref REF`` runs the same bench (this file) on another commit, checked out in a temporary
``git worktree``, right after this tree, and prints both tables and the ratio; ``--repeat N``
runs the pair N times, swapping the order every other time, and prints each pair's ratio and
their median (this machine's speed drifts during a run of several minutes). Phases per tree:

1. per worker count: a burst of single-event POSTs for ``--seconds``; events/s end to end =
   events / (last run finished - first event received), from the database; CPU per event per
   process kind over the burst and its drain; peak memory of web + workers; runs per write:
   the runs over the transactions that last wrote them (their rows' ``xmin``), so with
   batches how many events a drain took at a time (1: a commit per run, or per step);
   then (``--backlog N``) N events stored at once, in one transaction with one nudge, while
   the workers are idle, and drained: events/s from the first run created to the last
   finished, so what more workers add to the drain without the web on the same cores;
2. latency at half that rate (paced by wrk's ``delay``): event received -> run finished;
3. ingestion alone (workers stopped): single events, and the batch endpoint when there is one;
4. ``serve`` with the embedded defaults, as ``make run`` starts it: idle memory of every
   process it starts (embedded Redis included), then SIGINT: seconds to stop and what is left.
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
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import procs  # noqa: E402
from stack import (  # noqa: E402
    API,
    HERE,
    USERS,
    Tree,
    ensure_wrk,
    free_port,
    healthy,
    wait_for,
)

LUA = Path(__file__).resolve().parent / "post_events.lua"

# -- the load ----------------------------------------------------------------------------------


def wrk(tree: Tree, token: str, seconds: float, *, conns=8, batch=0, delay_ms=0, path=None):
    """Run wrk against the tree's web server; wrk's ``done`` summary as a dict."""
    env = dict(os.environ)
    env.update(
        BENCH_TOKEN=token,
        BENCH_PATH=path or f"{API}/triggers/process_event/",
        BENCH_USERS=str(USERS),
        BENCH_BATCH=str(batch),
        BENCH_DELAY_MS=str(int(delay_ms)),
        BENCH_RUN=uuid.uuid4().hex[:8],
    )
    argv = [
        ensure_wrk(),
        "-t",
        str(min(2, conns)),
        "-c",
        str(conns),
        "-d",
        f"{max(1, round(seconds))}s",
    ]
    argv += ["--timeout", "10s", "-s", str(LUA), f"http://127.0.0.1:{tree.web_port}"]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    summary = json.loads(line[4:])
    summary["rps"] = summary["requests"] / (summary["duration_us"] / 1e6)
    return summary


def drained(tree: Tree) -> bool:
    """No event waiting to be processed and no run still active."""
    row = tree.sql(
        "SELECT (SELECT count(*) FROM event_logs WHERE status IN ('received', 'processing')),"
        " (SELECT count(*) FROM workflow_executions"
        "  WHERE status IN ('pending', 'running', 'waiting'))"
    )
    return row == (0, 0)


def _pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def run_stats(tree: Tree, after_event: int) -> dict:
    """Runs of the MESSAGE_RECEIVED events with id > ``after_event``: count, span, latencies."""
    import psycopg

    with psycopg.connect(tree.pg_url) as conn:
        rows = conn.execute(
            "SELECT e.received_at, x.finished_at, x.status, x.xmin::text FROM event_logs e"
            " JOIN workflow_executions x ON x.event_id = e.id"
            " WHERE e.id > %s AND e.event_type = 'MESSAGE_RECEIVED'",
            (after_event,),
        ).fetchall()
    lat = sorted((f - r).total_seconds() * 1000 for r, f, *_ in rows)
    span = (max(f for _, f, *_ in rows) - min(r for r, *_ in rows)).total_seconds()
    return {
        "runs": len(rows),
        # The transactions that last wrote the runs (a row's xmin): with batches, how many
        # events a worker's drain took at a time.
        "writes": len({xmin for *_, xmin in rows}),
        "succeeded": sum(1 for _, _, s, _ in rows if s == "succeeded"),
        "span": span,
        "p50": _pct(lat, 0.5),
        "p95": _pct(lat, 0.95),
        "p99": _pct(lat, 0.99),
    }


def last_event(tree: Tree) -> int:
    return tree.sql("SELECT coalesce(max(id), 0) FROM event_logs")[0]


KINDS = ("web", "worker", "postgres", "redis")
BATCH_PATH = f"{API}/triggers/process_events/"


def burst(tree: Tree, token: str, seconds: float, batch: int = 0) -> dict:
    """Full-speed POSTs (single events, or ``batch`` per request), then the drain: events/s,
    CPU ms per event, peak memory."""
    mark = last_event(tree)
    before = {k: procs.cpu_seconds(tree.pids(k)) for k in KINDS}
    peak = procs.PeakMemory(lambda: tree.pids("web", "worker"))
    peak.start()
    if batch:
        load = wrk(tree, token, seconds, conns=1, batch=batch, path=BATCH_PATH)
    else:
        load = wrk(tree, token, seconds)
    wait_for(lambda: drained(tree), 900, "the drain", interval=0.2)
    memory = peak.stop()
    after = {k: procs.cpu_seconds(tree.pids(k)) for k in KINDS}
    stats = run_stats(tree, mark)
    events = max(stats["runs"], 1)
    cpu = {k: procs.cpu_delta(before[k], after[k]) * 1000 / events for k in KINDS}
    return {
        **stats,
        "eps": stats["runs"] / stats["span"],
        "ingest_rps": load["rps"],
        "non2xx": load["non2xx"],
        "cpu_ms": cpu,
        "peak_rss": memory[0],
        "peak_pss": memory[1],
    }


def backlog(tree: Tree, events: int) -> dict | None:
    """``events`` stored at once (one transaction, one nudge: what a large import, or the
    sweeper after an outage, leaves) while the workers are idle, then drained: events/s from
    the first run created to the last finished, CPU ms per event. None: the tree cannot store
    them so (before issue 12)."""
    mark = last_event(tree)
    before = {k: procs.cpu_seconds(tree.pids(k)) for k in KINDS}
    if not tree.store_events(events):
        return None
    wait_for(lambda: drained(tree), 900, "the drain", interval=0.2)
    after = {k: procs.cpu_seconds(tree.pids(k)) for k in KINDS}
    runs, span, writes = tree.sql(
        "SELECT count(*), extract(epoch FROM max(x.finished_at) - min(x.created_at)),"
        " count(DISTINCT x.xmin::text) FROM event_logs e"
        " JOIN workflow_executions x ON x.event_id = e.id"
        " WHERE e.id > %s AND e.event_type = 'MESSAGE_RECEIVED'",
        mark,
    )
    cpu = {k: procs.cpu_delta(before[k], after[k]) * 1000 / max(runs, 1) for k in KINDS}
    return {"runs": runs, "writes": writes, "eps": runs / float(span), "cpu_ms": cpu}


def paced(tree: Tree, token: str, rate: float, seconds: float) -> dict:
    """Single events at about ``rate`` per second: latency from event received to run done."""
    mark, conns = last_event(tree), 2
    load = wrk(tree, token, seconds, conns=conns, delay_ms=conns * 1000 / max(rate, 1))
    wait_for(lambda: drained(tree), 600, "the drain", interval=0.2)
    return {**run_stats(tree, mark), "rate": load["rps"]}


def ingest_only(tree: Tree, token: str, seconds: float, batch: int) -> dict:
    """Ingestion with no worker running: single events, then the batch endpoint if any."""
    single = wrk(tree, token, seconds)
    out = {"single_rps": single["rps"], "batch_eps": None}
    if batch and _has_batch_endpoint(tree, token, BATCH_PATH):
        load = wrk(tree, token, seconds, conns=4, batch=batch, path=BATCH_PATH)
        if load["non2xx"] == 0:
            out["batch_eps"] = load["rps"] * batch
    return out


def _has_batch_endpoint(tree: Tree, token: str, path: str) -> bool:
    req = urllib.request.Request(
        f"http://127.0.0.1:{tree.web_port}{path}",
        data=b'{"events": []}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status < 300
    except OSError as exc:
        return getattr(exc, "code", 404) not in (404, 405)


def make_run(tree: Tree, settle: float) -> dict:
    """``serve`` on the embedded defaults: idle memory of all it starts, clean stop."""
    instance = Path(tempfile.mkdtemp(prefix="flowmarket-serve-"))
    port, log = free_port(), instance / "serve.log"
    over = {k: None for k in tree.config}  # no DATABASE_URL, no REDIS_URL: the defaults
    over["INSTANCE_PATH"] = str(instance)
    argv = tree.command("serve", "--port", str(port))
    proc, started = tree.spawn("serve", argv, stdout=log, **over), []
    try:
        wait_for(lambda: healthy(port), 120, "serve")
        time.sleep(settle)
        started = tree.pids("serve") + _embedded_redis(log)
        rss, pss = procs.memory_mb(started)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
        seconds, left = procs.wait_gone(started, 30)
    finally:
        tree.left += started
        tree.stop("serve", signal.SIGKILL)
        shutil.rmtree(instance, ignore_errors=True)
    return {"rss": rss, "pss": pss, "procs": len(started), "stop_s": seconds, "left": len(left)}


def _embedded_redis(log: Path) -> list[int]:
    """The redis-server ``serve`` started (a daemon, not a child): found by its unix socket."""
    found = re.search(r"Redis: unix://(\S+?);", log.read_text())
    return procs.with_cmdline(found.group(1)) if found else []


# -- one tree ------------------------------------------------------------------------------


def bench_tree(root: Path, args) -> dict:
    tree = Tree(root)
    result: dict = {"root": str(root), "commit": _commit(root), "rows": [], "batch": args.batch}
    tree.start_redis()
    tree.create_database()
    try:
        token = tree.seed()
        tree.start_web()
        for n in [int(x) for x in args.workers.split(",")]:
            token = tree.seed()
            tree.start_workers(n)
            time.sleep(args.settle)
            idle = {k: procs.memory_mb(tree.pids(k)) for k in KINDS}
            row = {"workers": n, "idle": idle, **burst(tree, token, args.seconds)}
            row["paced"] = paced(tree, token, row["eps"] / 2, args.paced_seconds)
            if args.batch and _has_batch_endpoint(tree, token, BATCH_PATH):
                row["batched"] = burst(tree, token, args.batch_seconds, batch=args.batch)
            if args.backlog:
                row["backlog"] = backlog(tree, args.backlog)
            tree.stop("worker")
            result["rows"].append(row)
            print(f"  {n} worker(s): {row['eps']:.1f} events/s", file=sys.stderr, flush=True)
        token = tree.seed()
        result["ingest"] = ingest_only(tree, token, args.ingest_seconds, args.batch)
        tree.stop("web")
        result["serve"] = make_run(tree, args.settle)
    finally:
        for kind in list(tree.procs):
            tree.stop(kind, signal.SIGKILL)
        for pid in procs.alive(tree.left):  # orphans of `serve`
            os.kill(pid, signal.SIGKILL)
        tree.drop_database()
        shutil.rmtree(tree.instance, ignore_errors=True)
    return result


def _commit(root: Path) -> str:
    out = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], text=True, capture_output=True
    )
    return out.stdout.strip()


# -- tables --------------------------------------------------------------------------------


def print_tables(title: str, res: dict) -> None:
    print(f"\n{title} ({res['commit']})")
    print(
        "workers | events/s | ingest req/s | p50 ms | p95 ms | p99 ms (at half load, rate) |"
        " CPU ms/event web / worker / postgres / redis (cores busy) |"
        " peak MB web+workers RSS (PSS) | runs per write"
    )
    for r in res["rows"]:
        p, c = r["paced"], r["cpu_ms"]
        print(
            f"{r['workers']:>7} | {r['eps']:>8.1f} | {r['ingest_rps']:>12.1f} | {p['p50']:>6.1f} | "
            f"{p['p95']:>6.1f} | {p['p99']:>6.1f} ({p['rate']:.0f}/s) | "
            f"{c['web']:.1f} / {c['worker']:.1f} / {c['postgres']:.1f} / {c['redis']:.2f} "
            f"= {sum(c.values()):.1f} ({cores_busy(r):.2f}) | "
            f"{r['peak_rss']:.0f} ({r['peak_pss']:.0f}) | {runs_per_write(r):.1f}"
        )
    for r in res["rows"]:
        if r.get("batched"):
            print(
                f"{r['workers']} worker(s), events posted {args_batch(res)} per request: "
                f"{r['batched']['eps']:.1f} events/s end to end; {_spent(r['batched'])}"
            )
    for r in res["rows"]:
        if r.get("backlog"):
            b = r["backlog"]
            print(
                f"{r['workers']} worker(s), a backlog of {b['runs']} events stored at once: "
                f"{b['eps']:.1f} events/s drained; {_spent(b)}"
            )
    idle = res["rows"][0]["idle"]
    print(
        "idle MB RSS (PSS) with 1 worker: "
        + ", ".join(f"{k} {v[0]:.0f} ({v[1]:.0f})" for k, v in idle.items())
    )
    ing = res["ingest"]
    batch = f"{ing['batch_eps']:.0f}" if ing["batch_eps"] else "n/a"
    print(f"ingestion alone: {ing['single_rps']:.0f} events/s single, {batch} events/s batch")
    s = res["serve"]
    print(
        f"make run (serve, embedded): idle {s['rss']:.0f} MB RSS ({s['pss']:.0f} PSS) "
        f"in {s['procs']} processes; SIGINT -> stopped in {s['stop_s']:.1f} s, "
        f"{s['left']} left"
    )


def _spent(row: dict) -> str:
    """A phase's CPU per event by kind of process, the cores it kept busy, runs per write."""
    c = row["cpu_ms"]
    return (
        f"CPU ms/event {c['web']:.1f} / {c['worker']:.1f} / {c['postgres']:.1f} / "
        f"{c['redis']:.2f} = {sum(c.values()):.1f} ({cores_busy(row):.2f}); "
        f"{runs_per_write(row):.1f} runs per write"
    )


def cores_busy(row: dict) -> float:
    """CPU seconds per second of the burst, all four kinds of process together: how many of
    the machine's cores the stack kept busy. Adding a worker cannot raise events/s by more
    than the idle cores allow: ``os.cpu_count() / cores_busy`` at most."""
    return sum(row["cpu_ms"].values()) * row["eps"] / 1000


def runs_per_write(row: dict) -> float:
    """Runs over the transactions that last wrote them: a drain's batch size, on average."""
    return row["runs"] / max(row["writes"], 1)


def args_batch(res: dict) -> int:
    return res.get("batch", 100)


def print_ratio(pairs: list[tuple[dict, dict]]) -> None:
    """The ratios of each pair of runs (this tree, the ref) and, over several, their median."""
    print(
        "\nratio this / ref"
        + (f", {len(pairs)} pairs of runs, then the median" if len(pairs) > 1 else "")
    )
    eps = [
        [a["eps"] / b["eps"] for a, b in zip(new["rows"], ref["rows"], strict=False)]
        for new, ref in pairs
    ]
    new, ref = pairs[0]
    for i, (a, b) in enumerate(zip(new["rows"], ref["rows"], strict=False)):
        each = [ratios[i] for ratios in eps]
        shown = " / ".join(f"x{r:.2f}" for r in each)
        median = f"; median x{statistics.median(each):.2f}" if len(each) > 1 else ""
        print(
            f"  {a['workers']} worker(s): events/s {shown}{median}, "
            f"p99 {a['paced']['p99']:.0f} vs {b['paced']['p99']:.0f} ms (first pair)"
        )
    if len(new["rows"]) > 1:
        scale = [
            (n["rows"][1]["eps"] / n["rows"][0]["eps"], r["rows"][1]["eps"] / r["rows"][0]["eps"])
            for n, r in pairs
        ]
        bound = [os.cpu_count() / cores_busy(n["rows"][0]) for n, _ in pairs]
        print(
            "  1 -> 2 workers: this "
            + " / ".join(f"x{t:.2f}" for t, _ in scale)
            + ", ref "
            + " / ".join(f"x{r:.2f}" for _, r in scale)
            + f"; the most {os.cpu_count()} cores allowed this tree: "
            + " / ".join(f"x{b:.2f}" for b in bound)
        )
        phases = (("batched", "events posted in batches"), ("backlog", "a backlog stored at once"))
        for phase, label in phases:
            ratios = [(_scaling(n, phase), _scaling(r, phase)) for n, r in pairs]
            if not all(this for this, _ in ratios):
                continue
            print(
                f"  1 -> 2 workers, {label}: this "
                + " / ".join(f"x{this[0]:.2f}" for this, _ in ratios)
                + ", ref "
                + " / ".join(f"x{ref[0]:.2f}" if ref else "n/a" for _, ref in ratios)
                + f"; the most {os.cpu_count()} cores allowed this tree: "
                + " / ".join(f"x{this[1]:.2f}" for this, _ in ratios)
            )


def _scaling(res: dict, phase: str) -> tuple[float, float] | None:
    """1 -> 2 workers in ``phase`` of one run: the ratio of events/s, and the most the idle
    cores allowed; None when the run has no such phase."""
    one, two = (row.get(phase) for row in res["rows"][:2])
    if not (one and two):
        return None
    return two["eps"] / one["eps"], os.cpu_count() / cores_busy(one)


def with_ref(args) -> None:
    """This tree and ``args.ref`` (a temporary worktree), each in a child process, ``--repeat``
    times, the order swapped every other time (this, ref, ref, this, ...), so a drift of the
    machine's speed during the runs does not favour one side."""
    tmp = Path(tempfile.mkdtemp(prefix="flowmarket-ref-"))
    subprocess.run(
        ["git", "-C", str(HERE), "worktree", "add", "--detach", str(tmp / "tree"), args.ref],
        check=True,
        capture_output=True,
    )
    pairs: list[tuple[dict, dict]] = []
    try:
        for i in range(args.repeat):
            roots = (HERE, tmp / "tree") if i % 2 == 0 else (tmp / "tree", HERE)
            result = {}
            for root in roots:
                out = tmp / f"{i}-{root.name}.json"
                argv = [sys.executable, __file__, "--root", str(root), "--json", str(out)]
                argv += _passthrough(args)
                print(
                    f"==> bench on {root} (run {i + 1} of {args.repeat})",
                    file=sys.stderr,
                    flush=True,
                )
                subprocess.run(argv, check=True)
                result[root] = json.loads(out.read_text())
            pairs.append((result[HERE], result[tmp / "tree"]))
    finally:
        subprocess.run(
            ["git", "-C", str(HERE), "worktree", "remove", "--force", str(tmp / "tree")],
            check=False,
        )
        shutil.rmtree(tmp, ignore_errors=True)
    for i, (new, ref) in enumerate(pairs):
        run = f", run {i + 1}" if len(pairs) > 1 else ""
        print_tables(f"this tree{run}", new)
        print_tables(f"--ref {args.ref}{run}", ref)
    print_ratio(pairs)


def _passthrough(args) -> list[str]:
    return [
        "--workers",
        args.workers,
        "--seconds",
        str(args.seconds),
        "--paced-seconds",
        str(args.paced_seconds),
        "--ingest-seconds",
        str(args.ingest_seconds),
        "--batch",
        str(args.batch),
        "--settle",
        str(args.settle),
        "--batch-seconds",
        str(args.batch_seconds),
        "--backlog",
        str(args.backlog),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--seconds", type=float, default=5, help="length of the burst")
    parser.add_argument("--paced-seconds", type=float, default=8)
    parser.add_argument("--ingest-seconds", type=float, default=3)
    parser.add_argument("--batch", type=int, default=100, help="events per batch request")
    parser.add_argument("--batch-seconds", type=float, default=2, help="burst of batches")
    parser.add_argument(
        "--backlog", type=int, default=5000, help="events stored at once, then drained (0: none)"
    )
    parser.add_argument("--settle", type=float, default=3, help="seconds before idle readings")
    parser.add_argument("--ref", help="also bench this git ref (temporary worktree)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="with --ref: pairs of runs (median of the ratios)"
    )
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    ensure_wrk()
    if args.ref:
        with_ref(args)
        return
    result = bench_tree(Path(args.root or HERE).resolve(), args)
    if args.json:
        Path(args.json).write_text(json.dumps(result))
    else:
        print_tables("this tree", result)


if __name__ == "__main__":
    main()
