"""Simulate (issue 13): replay stored events of the last N days through a draft graph in an RQ
job, capture effects only; progress while it runs, per-node counts and samples when done."""

from __future__ import annotations

import copy
from datetime import timedelta

from runtime_helpers import COUPON, work


def _history(rows):
    """Store events ``(user, content, age)`` as if received ``age`` ago (no runs)."""
    from backend.extensions import db
    from backend.models import EventLog, utcnow

    now = utcnow()
    for i, (user, content, age) in enumerate(rows):
        payload = {"event_type": "MESSAGE_RECEIVED", "user_id": user, "data": {"content": content}}
        db.session.add(
            EventLog(
                event_type="MESSAGE_RECEIVED",
                idempotency_key=f"hist-{i}",
                payload=payload,
                user_id=user,
                status="processed",
                received_at=now - age,
            )
        )
    db.session.commit()


def _contacts():
    from backend.extensions import db
    from backend.services import contacts

    for user, tags in (("sara", ["interested"]), ("omid", []), ("lena", ["interested"])):
        contact = contacts.get_or_create_contact(user, {"first_name": user.title()})
        for tag in tags:
            contacts.add_tag(contact, tag)
    db.session.commit()


def _draft() -> dict:
    graph = copy.deepcopy(COUPON)
    graph["settings"] = {"reentry": "once"}
    graph["nodes"].insert(3, {"id": "wait", "type": "flow.wait", "params": {"days": 2}})
    graph["edges"][2] = {"id": "e3", "source": "send", "target": "wait"}
    graph["edges"].append({"id": "e5", "source": "wait", "target": "tag"})
    return graph


def _simulate(app, api, graph, days=7):
    started = api.post("/workflows/simulate/", {"graph": graph, "days": days})
    assert started.status_code == 202, started.json
    assert started.json["status"] == "queued" and "graph" not in started.json
    sim_id = started.json["id"]
    assert api.get(f"/simulations/{sim_id}/").json["status"] == "queued"
    work(app)
    done = api.get(f"/simulations/{sim_id}/").json
    assert done["status"] == "finished", done
    return done


def test_simulation_counts_nodes_messages_and_skips_without_touching_anything(app, api, viewer):
    from backend.extensions import db
    from backend.models import Contact, OutboundMessage, WorkflowExecution

    _contacts()
    _history(
        [
            ("sara", "coupon please", timedelta(days=3)),
            ("sara", "another coupon?", timedelta(days=2)),  # reentry once: skipped
            ("omid", "coupon", timedelta(days=1)),  # condition false
            ("lena", "hello", timedelta(hours=5)),  # no keyword: not matched
            ("lena", "COUPON", timedelta(hours=4)),
            ("ghost", "coupon", timedelta(days=20)),  # outside the window
        ]
    )
    done = _simulate(app, api, _draft())
    result = done["result"]
    assert done["progress"] == {"done": 5, "total": 5}
    assert (result["events"], result["runs"]) == (5, 3)
    assert result["nodes"]["trigger"]["entered"] == 3
    assert result["nodes"]["interested"]["succeeded"] == 3
    assert result["nodes"]["send"]["succeeded"] == 2
    assert result["nodes"]["wait"]["waiting"] == 2 and result["nodes"]["tag"]["succeeded"] == 2
    # the funnel's edges: 3 matched, 2 went on from the condition's true port, 2 waited through
    assert {k: result["edges"][k] for k in ("e1", "e2", "e3", "e5")} == {
        "e1": 3,
        "e2": 2,
        "e3": 2,
        "e5": 2,
    }
    assert result["outcomes"] == {"succeeded": 3}
    assert result["contacts_messaged"] == 2 and result["messages"] == 2
    texts = sorted(m["text"] for m in result["sample_messages"])
    assert texts == ["Lena, your code: SAVE10", "Sara, your code: SAVE10"]
    assert {m["channel"] for m in result["sample_messages"]} == {"capture"}
    assert result["skipped"]["reasons"] == {"reentry_once": 1, "not_matched": 1}
    miss = next(s for s in result["skipped"]["samples"] if s["reason"] == "not_matched")
    assert miss["contact"] == "lena" and miss["failing"][0]["actual"] == "hello"
    assert result["events_per_second"] > 0
    # Nothing was sent, stored or changed.
    assert db.session.query(OutboundMessage).count() == 0
    assert db.session.query(WorkflowExecution).count() == 0
    sara = db.session.query(Contact).filter_by(external_id="sara").one()
    assert sara.tag_names == ["interested"]
    assert viewer.get(f"/simulations/{done['id']}/").json["result"]["runs"] == 3


def test_simulated_tags_carry_over_to_later_events_of_the_same_contact(app, api):
    _contacts()
    _history([("omid", "coupon", timedelta(days=2)), ("omid", "coupon", timedelta(days=1))])
    graph = copy.deepcopy(COUPON)  # reentry always: both events run
    graph["nodes"][1]["params"]["rules"] = {
        "all": [{"field": "user.tags", "op": "contains", "value": "coupon_sent"}]
    }
    graph["edges"][1]["source_port"] = "false"  # first time: send + tag; second: tag present
    result = _simulate(app, api, graph)["result"]
    assert result["runs"] == 2 and result["messages"] == 1


def test_simulate_bad_input_is_4xx(app, api, viewer):
    bad = copy.deepcopy(COUPON)
    bad["nodes"][2]["params"] = {}
    resp = api.post("/workflows/simulate/", {"graph": bad})
    assert resp.status_code == 400 and resp.json["node_id"] == "send"
    assert api.post("/workflows/simulate/", {"graph": COUPON, "days": 0}).status_code == 400
    assert api.post("/workflows/simulate/", {"days": 3}).status_code == 400
    assert viewer.post("/workflows/simulate/", {"graph": COUPON}).status_code == 403
    assert api.get("/simulations/nope/").status_code == 404
    assert api.get("/simulations/a-b/").status_code == 404
