"""Command line: validate a graph, dry-run it against an event, list node types.

Usage::

    python -m graph_engine validate FILE.json
    python -m graph_engine run FILE.json --event EVENT.json [--contact CONTACT.json]
                                         [--trigger NODE_ID] [--now ISO] [--resume]
    python -m graph_engine node-types
    python -m graph_engine render FILE.json [-o OUT.svg] [--trace TRACE.jsonl]

``validate`` prints ``ok`` (warnings on stderr) and exits 0, or prints one line per error
(``node <id>: <message>``, ``edge <id>: ...``, ``graph: ...``) and exits 1. ``run`` matches the
event against the graph's triggers (exit 2 when none matches), runs the graph on in-memory
effects and a fake clock, and prints JSON lines, each with a ``kind``: one ``step`` per step,
then one ``effect`` per effect the run would perform, then a ``result``. A run that stops at a
wait says when it would resume; ``--resume`` advances the fake clock past every wait instead.
``FILE.json`` may also be a golden fixture (``{"graph", "event", "contact", ...}``), whose event
and contact are then the defaults. ``render`` draws the graph as an SVG picture; given the JSON
lines that ``run`` printed (``--trace``), it outlines each visited node by its status.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from graph_engine.context import build_context, event_from_payload
from graph_engine.effects import InMemoryEffects
from graph_engine.errors import GraphError, Issue
from graph_engine.interpreter import Interpreter
from graph_engine.matching import TriggerIndex
from graph_engine.registry import default_registry, trigger_specs
from graph_engine.render import to_svg
from graph_engine.validate import validate


class FakeClock:
    """The CLI's clock: starts at ``now`` and only moves when told to."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except (OSError, ValueError, GraphError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m graph_engine", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(required=True, dest="command")
    check = commands.add_parser("validate", help="validate a workflow graph JSON file")
    check.add_argument("file")
    check.set_defaults(handler=_validate)
    run = commands.add_parser("run", help="dry-run a graph against an event")
    run.add_argument("file")
    run.add_argument("--event", help="process-event payload JSON file")
    run.add_argument("--contact", help="contact JSON file (the user.* context)")
    run.add_argument("--trigger", help="only consider this trigger node")
    run.add_argument("--now", help="ISO datetime the fake clock starts at")
    run.add_argument("--resume", action="store_true", help="continue past waits")
    run.add_argument("--workflow-id", help="workflow id (A/B split hashing; default 'cli')")
    run.set_defaults(handler=_run)
    types = commands.add_parser("node-types", help="print the node-type registry as JSON")
    types.set_defaults(handler=lambda args: _print(default_registry.to_json(), indent=2) or 0)
    draw = commands.add_parser("render", help="draw the graph as SVG (optionally with a run trace)")
    draw.add_argument("file")
    draw.add_argument("-o", "--output", help="SVG file to write (default: stdout)")
    draw.add_argument("--trace", help="JSON lines printed by `run`: outline the visited nodes")
    draw.set_defaults(handler=_render)
    return parser


def _load(path: str):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _print(obj, **kwargs) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str, **kwargs), flush=True)


def _issue_line(issue: Issue) -> str:
    where = (
        f"node {issue.node_id}"
        if issue.node_id is not None
        else f"edge {issue.edge_id}"
        if issue.edge_id is not None
        else "graph"
    )
    field = f" (at {issue.field})" if issue.field else ""
    return f"{where}: {issue.message}{field}"


def _report(graph) -> bool:
    report = validate(graph)
    for issue in report.warnings:
        print(f"warning: {_issue_line(issue)}", file=sys.stderr)
    for issue in report.errors:
        print(_issue_line(issue))
    return report.ok


def _validate(args) -> int:
    data = _load(args.file)
    graph = data["graph"] if isinstance(data, dict) and "graph" in data else data
    if not _report(graph):
        return 1
    print("ok")
    return 0


def _run(args) -> int:
    # 1. Load the graph (or golden fixture), the event and the contact; validate the graph.
    data = _load(args.file)
    fixture = data if isinstance(data, dict) and "graph" in data else {}
    graph = fixture.get("graph", data)
    if not _report(graph):
        return 1
    payload = _load(args.event) if args.event else fixture.get("event")
    if payload is None:
        print("error: --event is required", file=sys.stderr)
        return 1
    contact = _load(args.contact) if args.contact else fixture.get("contact")
    now = args.now or fixture.get("now") or payload.get("timestamp")
    clock = FakeClock(datetime.fromisoformat(now) if now else datetime.now(UTC))
    event = event_from_payload(payload, now=clock.now)
    context = build_context(event, contact)
    args.workflow_id = args.workflow_id or fixture.get("workflow_id") or "cli"
    # 2. Match the event against the graph's triggers.
    trigger = _match(graph, context, args)
    if trigger is None:
        return 2
    # 3. Run on in-memory effects, printing each step; keep going past waits if asked.
    effects = InMemoryEffects(clock=clock, http_responses=fixture.get("http_responses"))
    engine = Interpreter(graph, effects=effects, workflow_id=args.workflow_id)
    state = engine.start(trigger, context, execution_id="cli")
    on_step = lambda record: _print({"kind": "step", **record.to_dict()})  # noqa: E731
    engine.run(state, on_step=on_step)
    while args.resume and state.status == "waiting" and state.resume_at:
        clock.now = max(clock.now, datetime.fromisoformat(state.resume_at))
        engine.run(state, on_step=on_step)
    # 4. The effects it would perform, then the outcome.
    for effect in effects.log:
        _print({"kind": "effect", **effect})
    _print(_result(state))
    return 0 if state.status in ("succeeded", "waiting") else 3


def _render(args) -> int:
    data = _load(args.file)
    graph = data["graph"] if isinstance(data, dict) and "graph" in data else data
    statuses = {}
    if args.trace:
        with open(args.trace, encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line) if line.strip() else {}
                if row.get("kind") == "step":
                    statuses[row["node_id"]] = row["status"]
    svg = to_svg(graph, statuses=statuses)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(svg)
    else:
        print(svg)
    return 0


def _match(graph: dict, context: dict, args) -> str | None:
    specs = trigger_specs(graph, args.workflow_id)
    if args.trigger:
        specs = [s for s in specs if s.node_id == args.trigger]
    matched = TriggerIndex(specs).match(context)
    if not matched:
        event = context["event"]["type"]
        print(f"no trigger matches this {event} event", file=sys.stderr)
        return None
    if len(matched) > 1:
        others = ", ".join(s.node_id for s in matched[1:])
        print(f"note: also matched {others}; running {matched[0].node_id}", file=sys.stderr)
    return matched[0].node_id


def _result(state) -> dict:
    out = {"kind": "result", "status": state.status, "steps": state.steps}
    if state.status == "waiting":
        out["resume_at"] = state.resume_at
        out["message"] = f"waiting: would resume at {state.resume_at} (use --resume to continue)"
    if state.error:
        out["error"] = state.error
    return out


if __name__ == "__main__":
    sys.exit(main())
