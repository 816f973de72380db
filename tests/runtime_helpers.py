"""Helpers shared by the runtime tests: graphs, a burst worker, activation."""

from __future__ import annotations

import contextlib
import copy
from datetime import timedelta

from rq import SimpleWorker

COUPON = {
    "format": "workflow-graph/v1",
    "name": "Coupon",
    "settings": {"reentry": "always"},
    "nodes": [
        {
            "id": "trigger",
            "type": "trigger.message_received",
            "params": {
                "filter": {
                    "any": [{"field": "event.data.content", "op": "icontains", "value": "coupon"}]
                }
            },
        },
        {
            "id": "interested",
            "type": "logic.condition",
            "params": {
                "rules": {"all": [{"field": "user.tags", "op": "contains", "value": "interested"}]}
            },
        },
        {
            "id": "send",
            "type": "action.send_message",
            "params": {"text": "{{ user.first_name }}, your code: SAVE10"},
        },
        {"id": "tag", "type": "action.add_tag", "params": {"tag": "coupon_sent"}},
        {"id": "note", "type": "action.add_note", "params": {"text": "coupon sent"}},
    ],
    "edges": [
        {"id": "e1", "source": "trigger", "target": "interested"},
        {"id": "e2", "source": "interested", "source_port": "true", "target": "send"},
        {"id": "e3", "source": "send", "target": "tag"},
        {"id": "e4", "source": "tag", "target": "note"},
    ],
}


def graph(base: dict = COUPON, **settings) -> dict:
    out = copy.deepcopy(base)
    out["settings"] = {**out.get("settings", {}), **settings}
    return out


def linear(*nodes: dict, trigger: dict | None = None, **settings) -> dict:
    """A trigger followed by ``nodes`` in a line."""
    trigger = trigger or {"id": "t", "type": "trigger.event", "params": {"event_type": "PING"}}
    all_nodes = [trigger, *nodes]
    edges = [
        {"id": f"e{i}", "source": a["id"], "target": b["id"]}
        for i, (a, b) in enumerate(zip(all_nodes, all_nodes[1:], strict=False))
    ]
    return {
        "format": "workflow-graph/v1",
        "name": "linear",
        "settings": settings,
        "nodes": all_nodes,
        "edges": edges,
    }


def setup(app, *graphs: dict, event_types=("PING",)):
    """Seed event types and create + activate one workflow per graph; return them."""
    from backend.extensions import db
    from backend.models import EventType
    from backend.runtime import discovery, interpreters
    from backend.services.bootstrap import seed_event_types
    from backend.services.workflows import activate, create_workflow

    seed_event_types()
    for name in event_types:
        db.session.add(EventType(name=name, description=""))
    db.session.commit()
    discovery.reset()
    interpreters.reset()  # workflow ids restart at 1 on a clean database
    return [activate(create_workflow(g["name"], graph=g)) for g in graphs]


def work(app, *, scheduler: bool = False) -> None:
    """Run every queued job (and, with ``scheduler``, every due scheduled one) here."""
    from backend.queue import get_queue, worker_connection
    from backend.worker import FlowWorker

    conn = worker_connection(app)
    worker = FlowWorker([get_queue(app, conn)], connection=conn)
    worker.flask_app = app
    worker.work(burst=True, logging_level="WARNING", with_scheduler=scheduler)
    assert isinstance(worker, SimpleWorker)


def message(content: str, user: str = "c1", **extra) -> dict:
    return {
        "event_type": "MESSAGE_RECEIVED",
        "data": {"content": content, "first_name": "Sara"},
        "user_id": user,
        "conversation_id": f"conv-{user}",
        **extra,
    }


class FlakyServer:
    """A local HTTP server answering the queued statuses in order (then 200); records every
    request (path, body, headers). With ``echo`` the answer repeats the request as JSON."""

    def __init__(self, statuses=(), echo: bool = False):
        import http.server
        import json
        import threading

        self.statuses, self.requests = list(statuses), []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                got = {"path": self.path, "body": body.decode(), "headers": dict(self.headers)}
                outer.requests.append(got)
                status = outer.statuses.pop(0) if outer.statuses else 200
                data = json.dumps({"echo": got} if echo else {"ok": status == 200}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def clock_ahead(app, seconds: float):
    """Let the runtime live ``seconds`` in the future (its injectable clock), not sleep."""
    from backend.models import utcnow

    app.config["RUNTIME_CLOCK"] = lambda: utcnow() + timedelta(seconds=seconds)
    try:
        yield
    finally:
        app.config.pop("RUNTIME_CLOCK", None)


def coupon_run(app, user: str = "c1"):
    """A real run of the coupon graph through the runtime: event, run, message, tag, note.
    Returns ``(workflow, contact id, run)``."""
    from sqlalchemy import select

    from backend.extensions import db
    from backend.models import WorkflowExecution
    from backend.runtime.ingest import accept_event
    from backend.services import contacts

    (wf,) = setup(app, graph())
    contact = contacts.get_or_create_contact(user, {"first_name": "Sara"})
    contacts.add_tag(contact, "interested")
    db.session.commit()
    accept_event(message("a coupon please", user))
    work(app)
    db.session.expire_all()
    run = db.session.scalar(select(WorkflowExecution))
    assert run.status == "succeeded"
    return wf, contact.id, run
