"""The worker's drain in instructions per event, counted by valgrind: a comparison of two
commits that the machine's speed does not move.

Why: on this kind of machine the CPU time of the same drain varies twofold from one hour to
the next (bench/drain.py, bench/throughput.py), so a change worth 10% cannot be seen in a
handful of timed runs. ``valgrind --tool=callgrind`` counts the instructions a process runs,
which stay the same for the same code and inputs whatever else the machine is doing (this
process only: PostgreSQL's and Redis's own work is not in the count). The count is the
process's own code, not the kernel's work for its system calls: a change that saves round
trips shows less here than in CPU time. Batches of 50 against 20 at 0198805: 4.86 M against
5.09 M per event here (a batch's fixed cost ~7.5 M, 1.6 events' worth), while bench/drain.py's
CPU time puts that fixed cost at 3.5 to 5 events' worth.

Each tree runs bench/drain.py on PostgreSQL under callgrind twice, with ``--events`` A and B
(one timed round after a warm-up of a fixed 40 events, batches of ``--size``); the difference
of the two counts over the difference of the events is the drain's instructions per event,
without the start-up (imports, migrations, seeding) both runs share. Two valgrind processes
run at a time (they do not disturb each other's counts). A run takes a few minutes.

    .venv/bin/python bench/instructions.py [--ref main] [--size 4] [--events 40,140]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
WARMUP = 40


def ensure_valgrind() -> str:
    if not shutil.which("valgrind"):
        print("==> installing valgrind with apt", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-qq", "valgrind"], check=True)
    return shutil.which("valgrind")


def count(tree: Path, events: int, size: int) -> int:
    """Instructions of one bench/drain.py process of ``tree`` draining ``events`` events."""
    argv = [ensure_valgrind(), "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    argv += [str(HERE / ".venv/bin/python"), str(tree / "bench/drain.py"), "--only", "postgresql"]
    argv += ["--rounds", "1", "--sizes", str(size), "--events", str(events)]
    argv += ["--warmup", str(WARMUP)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict and set orders every run
    done = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        raise RuntimeError(f"drain under valgrind failed in {tree}:\n{done.stderr[-3000:]}")
    print(f"    {tree}: {events} events, {int(found[1]):,} instructions", file=sys.stderr)
    return int(found[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ref", help="also count this git ref (temporary worktree)")
    parser.add_argument("--size", type=int, default=4, help="events per batch (drain.py --sizes)")
    parser.add_argument("--events", default="40,140", help="the two event counts")
    args = parser.parse_args()
    events = tuple(int(x) for x in args.events.split(","))
    if len(events) != 2 or events[1] <= events[0]:
        parser.error("--events: two counts, the second larger")
    trees = {"this tree": HERE}
    tmp = Path(tempfile.mkdtemp(prefix="flowmarket-ref-"))
    try:
        if args.ref:
            trees[f"--ref {args.ref}"] = tmp / "tree"
            subprocess.run(
                [
                    "git",
                    "-C",
                    str(HERE),
                    "worktree",
                    "add",
                    "--detach",
                    str(tmp / "tree"),
                    args.ref,
                ],
                check=True,
                capture_output=True,
            )
            # The same drain bench on both sides (an older tree's may lack --warmup).
            shutil.copy(HERE / "bench/drain.py", tmp / "tree/bench/drain.py")
        print(f"==> {2 * len(trees)} drains under callgrind, two at a time", file=sys.stderr)
        with ThreadPoolExecutor(max_workers=2) as pool:
            counts = {
                name: [pool.submit(count, tree, n, args.size) for n in events]
                for name, tree in trees.items()
            }
            results = {
                name: (high.result() - low.result()) / (events[1] - events[0])
                for name, (low, high) in counts.items()
            }
    finally:
        if args.ref:
            subprocess.run(
                ["git", "-C", str(HERE), "worktree", "remove", "--force", str(tmp / "tree")],
                check=False,
            )
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nWorker drain on PostgreSQL, batches of {args.size}: instructions per event")
    print("tree" + " " * 26 + "| instructions/event | ratio to the last")
    last = list(results.values())[-1]
    for name, value in results.items():
        print(f"{name:<30}| {value:>18,.0f} | {value / last:>6.3f}")


if __name__ == "__main__":
    main()
