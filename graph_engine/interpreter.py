"""The interpreter: runs a workflow graph one step at a time from a serialisable run state.

A run is a :class:`RunState`: a *frontier* of pending items (node id, attempt, ``not_before``,
the nodes that delivered it), the run *context*, a step count, a status and merge bookkeeping.
:meth:`Interpreter.step` takes one ready item, runs its node, and routes the output port's
edges back into the frontier; a caller may checkpoint ``state.to_dict()`` after any step and
resume it later, in another process, with :meth:`RunState.from_dict`. ``graph_engine/README.md``
draws the cycle.

>>> from graph_engine.context import build_context
>>> graph = {"format": "workflow-graph/v1", "name": "hi",
...          "nodes": [{"id": "t", "type": "trigger.manual"},
...                    {"id": "m", "type": "action.add_tag", "params": {"tag": "vip"}}],
...          "edges": [{"id": "e", "source": "t", "target": "m"}]}
>>> engine = Interpreter(graph)
>>> state = engine.run(engine.start("t", build_context({"type": "MANUAL", "user_id": "c1"})))
>>> state.status, state.context["user"]["tags"], state.steps
('succeeded', ['vip'], 2)
"""

from __future__ import annotations

__all__ = ["Interpreter", "RunState", "StepRecord", "DEFAULT_MAX_STEPS"]

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from graph_engine.effects import Effects, InMemoryEffects
from graph_engine.errors import InterpreterError, MaxStepsExceeded
from graph_engine.graph import Graph
from graph_engine.nodes import NodeCall
from graph_engine.quiet_hours import QUIET_NODE_TYPES, quiet_until
from graph_engine.registry import Registry, default_registry
from graph_engine.run_state import ACTIVE, RunState, StepRecord, error_dict, is_retryable

DEFAULT_MAX_STEPS = 1000


class _Plan:
    """What the interpreter needs about one node, computed once per Interpreter."""

    __slots__ = ("node_id", "type", "params", "retry", "succ", "disabled", "merge", "through")

    def __init__(self, node: dict, registry: Registry, graph: Graph):
        self.node_id = node["id"]
        self.type = registry.get(node["type"])
        self.params = node.get("params") or {}
        self.retry = {**self.type.retry, **(node.get("retry") or {})}
        self.succ = {
            port: graph.successors(self.node_id, port) for port in graph.ports_used(node["id"])
        }
        self.disabled = bool(node.get("disabled"))
        self.merge = self.type.merge(self.params) if self.type.merge else None
        ports = self.type.output_ports(self.params)
        self.through = "out" if "out" in ports or not ports else ports[0]


class Interpreter:
    """Runs one graph. Build it once and reuse it for many runs (it precomputes adjacency).

    Parameters
    ----------
    graph : a :class:`Graph` or a graph dict (validate it first: the interpreter trusts it).
    registry : the node types.
    effects : the world (clock, channels, contacts); default :class:`InMemoryEffects`.
    max_steps : the runaway guard; default ``settings.max_steps`` or 1000.
    workflow_id : identifies the workflow (A/B split hashing, trigger scoping).
    """

    def __init__(
        self,
        graph: Graph | dict,
        registry: Registry = default_registry,
        effects: Effects | None = None,
        max_steps: int | None = None,
        *,
        workflow_id: Any = None,
    ):
        self.graph = graph if isinstance(graph, Graph) else Graph.from_dict(graph)
        self.registry = registry
        self.effects = effects if effects is not None else InMemoryEffects()
        self.max_steps = max_steps or self.graph.settings.get("max_steps") or DEFAULT_MAX_STEPS
        self.workflow_id = workflow_id
        self._plans = {
            nid: _Plan(node, registry, self.graph) for nid, node in self.graph.nodes.items()
        }
        self._feeders, self._downstream = self._merge_reachability()

    def _merge_reachability(self) -> tuple[dict, dict]:
        """For each merge node: the nodes that can still deliver to it (its ancestors that it
        does not itself lead back to) and the nodes downstream of it (feedback arrivals)."""
        import networkx as nx  # on first use (graph_engine.graph says why)

        nxg = self.graph.to_networkx()
        feeders, downstream = {}, {}
        for node_id, plan in self._plans.items():
            if plan.merge:
                downstream[node_id] = nx.descendants(nxg, node_id)
                feeders[node_id] = nx.ancestors(nxg, node_id) - downstream[node_id]
        return feeders, downstream

    # -- starting ---------------------------------------------------------------------------

    def start(
        self,
        trigger_node_id: str,
        context: dict,
        *,
        execution_id: str | None = None,
        effects: Effects | None = None,
    ) -> RunState:
        """A new run state whose frontier holds the trigger node.

        Fills the context's missing ``nodes``, ``workflow`` (id, name, timezone from the graph)
        and ``execution`` (id, started_at, from the clock of ``effects``) keys.
        """
        plan = self._plans.get(trigger_node_id)
        if plan is None or plan.type.category != "trigger":
            raise InterpreterError(f"node {trigger_node_id}: not a trigger of this graph")
        workflow = context.setdefault("workflow", {})
        workflow.setdefault("id", self.workflow_id)
        workflow.setdefault("name", self.graph.name)
        workflow.setdefault("timezone", self.graph.timezone)
        execution = context.setdefault("execution", {})
        execution_id = execution_id or execution.get("id") or uuid.uuid4().hex
        execution["id"] = execution_id
        execution.setdefault("started_at", (effects or self.effects).now().isoformat())
        context.setdefault("nodes", {})
        return RunState(
            execution_id=execution_id,
            workflow_id=workflow["id"],
            trigger_node_id=trigger_node_id,
            context=context,
            frontier=[_item(trigger_node_id, [], None)],
        )

    # -- the step cycle ---------------------------------------------------------------------

    def run(
        self, state: RunState, *, on_step=None, limit: int | None = None, effects=None
    ) -> RunState:
        """Step until the run succeeds, fails or waits (or ``limit`` steps were taken).

        ``on_step(record)`` is called after every step. A waiting run (``status ==
        "waiting"``, ``resume_at`` set) continues when ``run`` is called again after that time.
        """
        taken = 0
        while state.status in ACTIVE:
            record = self.step(state, effects)
            if record is None:
                break
            if on_step is not None:
                on_step(record)
            taken += 1
            if limit is not None and taken >= limit:
                break
        return state

    def step(
        self, state: RunState, effects: Effects | None = None, now: datetime | None = None
    ) -> StepRecord | None:
        """Run one ready frontier item; ``None`` when nothing is ready (the status then says
        why: succeeded, waiting with ``resume_at``, or failed).

        ``effects`` is this run's world (default: the interpreter's own): one interpreter, built
        once per graph, serves many runs, each stepping with its own effects. ``now``: the
        instant the item to run is chosen by (default: ``effects.now()``), for a caller that
        acted on that same instant first (the runtime closes the waits that are over by then).
        """
        # 1. Only a running or waiting run can step.
        if state.status not in ACTIVE:
            return None
        effects = effects if effects is not None else self.effects
        now = now if now is not None else effects.now()
        # 2. Choose the next ready item; with none, settle the status (done or waiting).
        index = self._next_ready(state, now)
        if index is None:
            self._settle(state, now)
            return None
        # 3. Guard against runaway loops before doing any work.
        if state.steps >= self.max_steps:
            exc = MaxStepsExceeded(f"run exceeded max_steps={self.max_steps}")
            self._fail(state, error_dict(exc))
            return None
        item = state.frontier.pop(index)
        state.status, state.resume_at = "running", None
        # 4. Run the node and route its output port (or handle its failure).
        record = self._execute(state, item, now, effects)
        state.steps += 1
        # 5. Close finished merge rounds, then settle: more to do, waiting, or done.
        if state.merges:
            self._close_merge_rounds(state)
        if state.status == "running":
            self._settle(state, effects.now())
        return record

    def _execute(self, state: RunState, item: dict, now: datetime, effects) -> StepRecord:
        node_id = item["node_id"]
        plan = self._plans.get(node_id)
        if plan is None:
            raise InterpreterError(f"node {node_id}: in the run state but not in the graph")
        record = StepRecord(state.steps + 1, node_id, plan.type.type, item["attempt"], now)
        started = time.perf_counter()
        if self._held_by_quiet_hours(state, plan, item, record, now):
            pass
        elif plan.disabled:
            record.status, record.port, record.input = "skipped", plan.through, plan.params
            self._route(state, plan, plan.through, None)
        else:
            call = NodeCall(
                node_id,
                plan.params,
                state.context,
                effects,
                now,
                state.execution_id,
                state.workflow_id,
                item["attempt"],
                state.visits.get(node_id, 0),
                item["from"],
            )
            try:
                result = plan.type.run(call)
            except Exception as exc:  # a node failure is data: retry, error port or fail
                self._on_failure(state, item, plan, exc, record, now)
            else:
                self._on_success(state, plan, result, record, now)
        record.finish(effects.now(), time.perf_counter() - started)
        return record

    def _held_by_quiet_hours(self, state, plan: _Plan, item, record: StepRecord, now) -> bool:
        """A message node due inside the quiet hours goes back to the frontier until they end."""
        quiet = self.graph.settings.get("quiet_hours")
        if (
            not quiet
            or plan.disabled
            or plan.type.type not in quiet.get("node_types", QUIET_NODE_TYPES)
        ):
            return False
        opens = quiet_until(quiet, state.context.get("user"), self.graph.timezone, now)
        if opens is None:
            return False
        record.status, record.resume_at = "waiting", opens.isoformat()
        record.input, record.output = plan.params, {"quiet_hours_until": opens.isoformat()}
        state.frontier.append({**item, "not_before": opens.isoformat()})
        return True

    def _on_success(self, state, plan: _Plan, result, record: StepRecord, now) -> None:
        # 1. Store the output (and contact / conversation updates) in the context.
        state.context["nodes"][plan.node_id] = result.output
        if result.updates:
            for key in ("user", "conversation"):
                if key in result.updates:
                    state.context[key] = result.updates[key]
        state.visits[plan.node_id] = state.visits.get(plan.node_id, 0) + 1
        # 2. Record the step; a wait in the future holds its successors back.
        not_before = None
        if result.resume_at is not None and result.resume_at > now:
            not_before = result.resume_at.isoformat()
        record.status = "waiting" if not_before else "succeeded"
        record.resume_at = not_before
        record.input = plan.params if result.input is None else result.input
        record.output, record.port = result.output, result.port
        # 3. Follow the port.
        self._route(state, plan, result.port, not_before)

    def _on_failure(self, state, item, plan: _Plan, exc, record: StepRecord, now) -> None:
        error = error_dict(exc)
        record.error, record.input = error, plan.params
        attempt, policy = item["attempt"], plan.retry
        # 1. Retryable and attempts left: back into the frontier after the backoff.
        if is_retryable(exc) and attempt < policy.get("max_attempts", 1):
            factor = policy.get("backoff_factor", 1) ** (attempt - 1)
            delay = policy.get("backoff_seconds", 0) * factor
            delay = max(delay, getattr(exc, "retry_after", None) or 0)  # the other side asked
            not_before = (now + timedelta(seconds=delay)).isoformat() if delay > 0 else None
            record.status, record.resume_at = "retrying", not_before
            state.frontier.append({**item, "attempt": attempt + 1, "not_before": not_before})
            return
        record.status = "failed"
        state.visits[plan.node_id] = state.visits.get(plan.node_id, 0) + 1
        # 2. Exhausted but an "error" edge exists: continue there with the error as output.
        if "error" in plan.succ:
            record.output = state.context["nodes"][plan.node_id] = {"error": error}
            record.port = "error"
            self._route(state, plan, "error", None)
            return
        # 3. Otherwise the run fails, keeping the (first) error -- once the sibling branches
        #    that are mid-retry have used their attempts: a failing branch does not drop them
        #    half-done. Nothing new starts meanwhile (see _route).
        retrying = [it for it in state.frontier if it["attempt"] > 1]
        if retrying:
            state.error = state.error or error
            state.frontier[:] = retrying
            state.merges.clear()
            return
        self._fail(state, state.error or error)

    def _fail(self, state: RunState, error: dict) -> None:
        state.status, state.error, state.resume_at = "failed", error, None
        state.frontier.clear()
        state.merges.clear()

    # -- routing and merges -----------------------------------------------------------------

    def _route(self, state: RunState, plan: _Plan, port: str, not_before: str | None) -> None:
        if state.error is not None:  # the run is failing: only in-flight retries finish
            return
        for target in plan.succ.get(port, ()):
            self._deliver(state, target, plan.node_id, not_before)

    def _deliver(self, state: RunState, target: str, source: str, not_before: str | None) -> None:
        mode = self._plans[target].merge
        if mode == "all":  # coalesce arrivals into the one pending item of the merge
            pending = next((it for it in state.frontier if it["node_id"] == target), None)
            if pending is not None:
                pending["from"].append(source)
                pending["not_before"] = _later(pending["not_before"], not_before)
                return
        elif mode == "any":  # drop sibling arrivals once the round has fired
            merge_round = state.merges.get(target)
            if merge_round is not None and source not in self._downstream[target]:
                merge_round["arrived"].append(source)
                return
            state.merges[target] = {"arrived": [source]}
        state.frontier.append(_item(target, [source], not_before))

    def _blocked(self, state: RunState, item: dict) -> bool:
        """A merge-all item waits while another pending item can still reach it."""
        feeders = self._feeders[item["node_id"]]
        return any(other["node_id"] in feeders for other in state.frontier if other is not item)

    def _close_merge_rounds(self, state: RunState) -> None:
        for target in list(state.merges):
            feeders = self._feeders[target]
            if not any(it["node_id"] in feeders for it in state.frontier):
                del state.merges[target]

    # -- readiness ----------------------------------------------------------------------------

    def _next_ready(self, state: RunState, now: datetime) -> int | None:
        """Index of the first item that may run now (not before its time, not blocked)."""
        blocked, future = None, False
        for index, item in enumerate(state.frontier):
            not_before = item["not_before"]
            if not_before is not None and datetime.fromisoformat(not_before) > now:
                future = True
            elif self._plans[item["node_id"]].merge == "all" and self._blocked(state, item):
                blocked = index if blocked is None else blocked
            else:
                return index
        return None if future else blocked

    def _settle(self, state: RunState, now: datetime) -> None:
        if not state.frontier:
            failing = state.error is not None
            state.status, state.resume_at = ("failed" if failing else "succeeded"), None
        elif self._next_ready(state, now) is not None:
            state.status, state.resume_at = "running", None
        else:
            times = [it["not_before"] for it in state.frontier if it["not_before"] is not None]
            state.status = "waiting"
            state.resume_at = min(times, key=datetime.fromisoformat) if times else None


def _item(node_id: str, sources: list, not_before: str | None) -> dict:
    return {"node_id": node_id, "attempt": 1, "not_before": not_before, "from": sources}


def _later(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return max(a, b, key=datetime.fromisoformat)
