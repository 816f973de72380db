"""Prometheus ``/metrics`` (issue 13): figures computed from the database and Redis, so they hold
whichever process did the work; protected by a token or loopback-only."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from runtime_helpers import graph, message, setup, work


def _samples(text: str) -> dict:
    """``{(name, frozenset(labels)): value}`` of every sample."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def _scrape(client, **kw):
    resp = client.get("/metrics", **kw)
    assert resp.status_code == 200, resp.data
    assert resp.mimetype == "text/plain"
    return _samples(resp.get_data(as_text=True))


def _coupon_run(app):
    from backend.extensions import db
    from backend.runtime.ingest import accept_event
    from backend.services import contacts

    setup(app, graph())
    contact = contacts.get_or_create_contact("c1", {"first_name": "Sara"})
    contacts.add_tag(contact, "interested")
    db.session.commit()
    accept_event(message("a coupon please"))
    accept_event(message("hello there"))  # matches nothing


def test_metrics_count_events_runs_steps_and_sends(app, client, seeded):
    _coupon_run(app)
    before = _scrape(client)
    # two messages wait; the TAG_ADDED event that tagging the contact emitted does not:
    # nothing listens to it, so it was stored as processed at once
    assert before[("flowmarket_events_waiting", frozenset())] == 2
    tagged = frozenset({("event_type", "TAG_ADDED"), ("status", "processed")})
    assert before[("flowmarket_events_total", tagged)] == 1
    assert before[("flowmarket_oldest_waiting_event_age_seconds", frozenset())] >= 0
    work(app)
    after = _scrape(client)
    processed = frozenset({("event_type", "MESSAGE_RECEIVED"), ("status", "processed")})
    assert after[("flowmarket_events_total", processed)] == 2
    assert after[("flowmarket_events_waiting", frozenset())] == 0
    assert after[("flowmarket_runs", frozenset({("status", "succeeded")}))] == 1
    send = frozenset({("node_type", "action.send_message")})
    assert after[("flowmarket_step_duration_seconds_count", send)] == 1
    inf = frozenset({("node_type", "action.send_message"), ("le", "+Inf")})
    assert after[("flowmarket_step_duration_seconds_bucket", inf)] == 1
    sent = frozenset({("channel", "capture"), ("kind", "message"), ("status", "captured")})
    assert after[("flowmarket_outbound_messages_total", sent)] == 1
    queued = [
        v
        for (n, labels), v in after.items()
        if n == "flowmarket_queue_depth" and ("state", "queued") in labels
    ]
    assert queued == [0]


def test_metrics_refuse_remote_callers_and_wrong_tokens(app, client, seeded):
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert remote.status_code == 403 and remote.json["code"] == "metrics_forbidden"
    app.config["METRICS_TOKEN"] = "s3cret-scrape"
    try:
        assert client.get("/metrics").status_code == 401
        bad = {"Authorization": "Bearer nope"}
        assert client.get("/metrics", headers=bad).status_code == 401
        good = {"Authorization": "Bearer s3cret-scrape"}
        ok = client.get("/metrics", headers=good, environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert ok.status_code == 200 and b"flowmarket_runs" in ok.data
    finally:
        app.config["METRICS_TOKEN"] = ""
    app.config["METRICS_ALLOW"] = "any"
    try:
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    finally:
        app.config["METRICS_ALLOW"] = "loopback"
