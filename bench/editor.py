"""The editor in real Chromium: time to an interactive 200-node canvas, frames per second while
dragging a node on it, and the gzipped JS + CSS the editor page loads. Prints a table::

    .venv/bin/python bench/editor.py [--nodes 200] [--runs 5]

The app runs in-process (werkzeug, SQLite, a private redis-server) with the built bundle in
static/dist (run scripts/bootstrap first). Figures are medians over the runs.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "e2e")]

from browserkit import CHROMIUM, CHROMIUM_ARGS, LiveServer  # noqa: E402
from editorkit import Api, sign_in  # noqa: E402
from support import RedisServer, create_schema, make_app  # noqa: E402

TARGETS = {"interactive_s": 1.5, "fps": 50, "initial_kb": 500}
# Interactive: every node shown (measured) and every edge drawn (its ports measured).
READY = """n => { const els = document.querySelectorAll('.react-flow__node[data-node-id]');
  return els.length === n && document.querySelectorAll('[data-edge-id]').length === n - 1
    && [...els].every(e => e.style.visibility !== 'hidden'); }"""
COUNT_FRAMES = """() => { window.__frames = 0; window.__t0 = performance.now();
  const tick = () => { window.__frames++; if (!window.__stop) requestAnimationFrame(tick); };
  window.__stop = false; requestAnimationFrame(tick); }"""
STOP_FRAMES = """() => { window.__stop = true;
  return window.__frames / ((performance.now() - window.__t0) / 1000); }"""


def big_graph(n: int) -> dict:
    """A trigger and ``n - 1`` actions in branches of a condition, on a grid."""
    nodes = [
        {"id": "t", "type": "trigger.message_received", "position": {"x": 0, "y": 0}, "params": {}}
    ]
    edges = []
    for i in range(1, n):
        kind = "logic.condition" if i % 10 == 1 else "action.add_tag"
        params = (
            {"rules": {"all": [{"field": "user.tags", "op": "contains", "value": f"t{i}"}]}}
            if kind == "logic.condition"
            else {"tag": f"tag-{i}"}
        )
        nodes.append(
            {
                "id": f"n{i}",
                "type": kind,
                "params": params,
                "position": {"x": 320 * (i % 20), "y": 120 * (i // 20)},
            }
        )
        source = "t" if i == 1 else f"n{i - 1}"
        port = {"source_port": "true"} if nodes[i - 1]["type"] == "logic.condition" else {}
        edges.append({"id": f"e{i}", "source": source, "target": f"n{i}", **port})
    return {"format": "workflow-graph/v1", "name": "Big", "nodes": nodes, "edges": edges}


def time_to_interactive(page, wf_id: int, n: int) -> float:
    page.goto("/workflows")  # warm: the bundle is cached as it would be for a returning user
    start = time.perf_counter()
    page.goto(f"/workflows/{wf_id}")
    page.wait_for_function(READY, arg=n, timeout=60_000)
    return time.perf_counter() - start


def drag_fps(page) -> float:
    box = page.locator('[data-node-id="n5"]').bounding_box()
    x, y = box["x"] + 40, box["y"] + 20
    page.mouse.move(x, y)
    page.mouse.down()
    page.evaluate(COUNT_FRAMES)
    for i in range(90):  # ~1.5 s of pointer moves at 60 Hz
        page.mouse.move(x + 3 * i, y + (i % 30), steps=1)
        page.wait_for_timeout(16)
    fps = page.evaluate(STOP_FRAMES)
    page.mouse.up()
    return fps


def initial_kb(page) -> float:
    """Gzipped size of every script and stylesheet the editor page loaded."""
    urls = page.evaluate("""() => performance.getEntriesByType('resource').map(r => r.name)
        .filter(u => /\\.(js|css)(\\?|$)/.test(u))""")
    total = 0
    for url in set(urls):
        path = ROOT / url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
        total += len(gzip.compress(path.read_bytes(), compresslevel=9))
    return total / 1000


def measure(server, nodes: int, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=server.url, viewport={"width": 1440, "height": 900})
        sign_in(page)
        wf = Api(page).create("Bench", big_graph(nodes))
        ready = [time_to_interactive(page, wf["id"], nodes) for _ in range(runs)]
        size = initial_kb(page)
        fps = [drag_fps(page) for _ in range(runs)]
        browser.close()
    return {
        "interactive_s": statistics.median(ready),
        "interactive_best": min(ready),
        "fps": statistics.median(fps),
        "initial_kb": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="flowmarket-bench-editor-"))
    redis = RedisServer(work)
    redis.start()
    app = make_app(
        f"sqlite:///{work / 'bench.db'}", redis.url, WTF_CSRF_ENABLED=True, TESTING=False
    )
    create_schema(app)
    with app.app_context():
        from backend.services.bootstrap import create_user

        create_user("editor@example.com", "password123", "editor")
    server = LiveServer(app).start()
    try:
        figures = measure(server, args.nodes, args.runs)
    finally:
        server.stop()
        redis.stop()
    rows = [
        (
            "navigation -> interactive canvas",
            f"{figures['interactive_s']:.2f} s",
            "< 1.5 s",
            figures["interactive_s"] < TARGETS["interactive_s"],
        ),
        ("  (best run)", f"{figures['interactive_best']:.2f} s", "", True),
        ("fps while dragging a node", f"{figures['fps']:.0f}", ">= 50", figures["fps"] >= 50),
        (
            "initial JS + CSS, gzipped",
            f"{figures['initial_kb']:.0f} kB",
            "< 500 kB",
            figures["initial_kb"] < TARGETS["initial_kb"],
        ),
    ]
    print(f"editor, {args.nodes}-node workflow, median of {args.runs} runs (Chromium headless)")
    print(f"{'figure':<36} {'measured':>10} {'target':>10}  ok")
    for name, value, target, ok in rows:
        print(f"{name:<36} {value:>10} {target:>10}  {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
