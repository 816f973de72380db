"""/workflows/: CRUD, versions, activate / pause, export / import, statistics, execute."""

from __future__ import annotations

import copy

from apikit import coupon_graph, simple_graph


def _create(api, name="W", graph=None, **extra):
    body = {"name": name, **extra}
    if graph is not None:
        body["graph"] = graph
    resp = api.post("/workflows/", body)
    assert resp.status_code == 201, resp.json
    return resp.json


def test_create_without_graph_gives_an_empty_valid_format_graph(api):
    wf = _create(api, "Empty one", description="d")
    assert wf["graph"] == {
        "format": "workflow-graph/v1",
        "name": "Empty one",
        "nodes": [],
        "edges": [],
    }
    assert (wf["status"], wf["version"], wf["description"]) == ("draft", 1, "d")
    assert {"id", "created_at", "updated_at"} <= set(wf)


def test_list_filters_by_status_and_searches_by_name(api):
    a = _create(api, "Coupon flow", graph=simple_graph())
    _create(api, "Welcome flow")
    assert api.post(f"/workflows/{a['id']}/activate/").status_code == 200
    page = api.get("/workflows/", status="active").json
    assert [w["name"] for w in page["results"]] == ["Coupon flow"]
    assert page["count"] == 1 and page["next"] is None and page["previous"] is None
    assert [w["name"] for w in api.get("/workflows/", search="welc").json["results"]] == [
        "Welcome flow"
    ]
    assert api.get("/workflows/", status="bogus").status_code == 400


def test_pagination_links(api):
    for i in range(3):
        _create(api, f"W{i}")
    first = api.get("/workflows/", page_size=2).json
    assert first["count"] == 3 and len(first["results"]) == 2
    assert "page=2" in first["next"] and first["previous"] is None
    second = api.client.get(first["next"], headers={"Authorization": f"Bearer {api.token}"}).json
    assert len(second["results"]) == 1 and second["next"] is None and "page=1" in second["previous"]


def test_update_put_and_patch_bump_version_and_keep_history(api):
    wf = _create(api, "V", graph=simple_graph())
    graph = simple_graph("changed")
    resp = api.put(f"/workflows/{wf['id']}/", {"name": "V2", "graph": graph})
    assert resp.status_code == 200 and resp.json["version"] == 2 and resp.json["name"] == "V2"
    resp = api.patch(f"/workflows/{wf['id']}/", {"description": "only text"})
    assert resp.json["version"] == 2 and resp.json["description"] == "only text"
    versions = api.get(f"/workflows/{wf['id']}/versions/").json
    assert [v["version"] for v in versions["results"]] == [2, 1]
    assert versions["results"][0]["graph"]["nodes"][1]["params"]["text"] == "changed"
    assert api.put(f"/workflows/{wf['id']}/", {"name": "no graph"}).status_code == 400


def test_retrieve_includes_validation_report_and_delete(api):
    wf = _create(
        api, "R", graph={**simple_graph(), "nodes": simple_graph()["nodes"][:1], "edges": []}
    )
    detail = api.get(f"/workflows/{wf['id']}/").json
    assert "validation" in detail and isinstance(detail["validation"]["errors"], list)
    assert api.delete(f"/workflows/{wf['id']}/").status_code == 204
    assert api.get(f"/workflows/{wf['id']}/").status_code == 404


def test_activate_invalid_graph_names_each_bad_node(api):
    graph = simple_graph()
    graph["nodes"][1]["params"] = {}
    graph["nodes"].append({"id": "ghost", "type": "action.nope", "params": {}})
    wf = _create(api, "Bad", graph=graph)
    resp = api.post(f"/workflows/{wf['id']}/activate/")
    assert resp.status_code == 400
    named = {e.get("node_id") for e in resp.json["errors"]}
    assert {"send", "ghost"} <= named
    assert api.get(f"/workflows/{wf['id']}/").json["status"] == "draft"


def test_activate_pause_and_trigger_rows_follow(api):
    wf = _create(api, "Live", graph=coupon_graph())
    assert api.get("/triggers/", workflow=wf["id"]).json["results"][0]["is_active"] is False
    assert api.post(f"/workflows/{wf['id']}/activate/").json["status"] == "active"
    rows = api.get("/triggers/", workflow=wf["id"]).json["results"]
    assert [(r["node_id"], r["event_type"], r["is_active"]) for r in rows] == [
        ("trigger", "MESSAGE_RECEIVED", True)
    ]
    assert api.post(f"/workflows/{wf['id']}/pause/").json["status"] == "paused"
    assert api.get("/triggers/", workflow=wf["id"]).json["results"][0]["is_active"] is False


def test_saving_an_active_workflow_requires_a_valid_graph(api):
    wf = _create(api, "Live", graph=simple_graph())
    api.post(f"/workflows/{wf['id']}/activate/")
    broken = simple_graph()
    broken["nodes"][1]["params"] = {"text": 5}
    resp = api.patch(f"/workflows/{wf['id']}/", {"graph": broken})
    assert resp.status_code == 400 and resp.json["errors"][0]["node_id"] == "send"
    assert api.get(f"/workflows/{wf['id']}/").json["version"] == 1


def test_archived_cannot_be_activated(api):
    wf = _create(api, "Old", graph=simple_graph())
    api.patch(f"/workflows/{wf['id']}/", {"status": "archived"})
    resp = api.post(f"/workflows/{wf['id']}/activate/")
    assert resp.status_code == 409 and resp.json["field"] == "status"


def test_export_then_import_round_trips(api):
    wf = _create(api, "Coupon", description="exported", graph=coupon_graph())
    resp = api.get(f"/workflows/{wf['id']}/export/")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    exported = resp.json
    assert exported["name"] == "Coupon" and exported["description"] == "exported"
    imported = api.post("/workflows/import/", exported)
    assert imported.status_code == 201
    body = imported.json
    assert body["name"] == "Coupon" and body["status"] == "draft" and body["id"] != wf["id"]
    assert body["graph"]["nodes"] == coupon_graph()["nodes"]
    assert api.post("/workflows/import/", {"nodes": []}).status_code == 400


def test_import_rejects_non_graph_files(api):
    bad = copy.deepcopy(coupon_graph())
    bad["format"] = "something-else"
    resp = api.post("/workflows/import/", bad)
    assert resp.status_code == 400 and resp.json["field"] == "format"


def test_statistics_aggregate_runs_and_steps(api, app):
    from backend.extensions import db
    from backend.models import StepExecution, WorkflowExecution

    wf = _create(api, "S", graph=simple_graph())
    for status, ms in (
        ("succeeded", 100.0),
        ("succeeded", 300.0),
        ("failed", 50.0),
        ("running", None),
    ):
        run = WorkflowExecution(
            workflow_id=wf["id"], trigger_node_id="start", status=status, duration_ms=ms
        )
        db.session.add(run)
        db.session.flush()
        db.session.add(
            StepExecution(
                execution_id=run.id,
                seq=1,
                node_id="send",
                node_type="action.send_message",
                status="succeeded",
                duration_ms=10.0,
            )
        )
    db.session.commit()
    stats = api.get("/workflows/statistics/").json
    assert stats["workflows"]["by_status"] == {"draft": 1}
    assert stats["executions"]["by_status"] == {"succeeded": 2, "failed": 1, "running": 1}
    assert stats["executions"]["success_rate"] == round(2 / 3, 4)
    assert stats["executions"]["avg_duration_ms"] == 150.0
    assert stats["per_workflow"][0]["total"] == 4
    assert stats["per_node"] == [
        {
            "workflow_id": wf["id"],
            "node_id": "send",
            "node_type": "action.send_message",
            "total": 4,
            "by_status": {"succeeded": 4},
            "avg_duration_ms": 10.0,
        }
    ]
    assert api.get("/workflows/statistics/", workflow_id=999).json["executions"]["total"] == 0


def test_execute_starts_a_manual_run(api):
    wf = _create(api, "Manual", graph=simple_graph())
    api.post("/contacts/", {"external_id": "c1", "first_name": "Sara"})
    resp = api.post(
        f"/workflows/{wf['id']}/execute/",
        {
            "event": {"event_type": "MESSAGE_RECEIVED", "data": {"content": "hello"}},
            "contact": {"external_id": "c1"},
        },
    )
    assert resp.status_code == 202, resp.json
    run = resp.json
    assert run["workflow_id"] == wf["id"] and run["trigger_node_id"] == "start"
    assert run["contact_external_id"] == "c1"
    detail = api.get(f"/workflow-executions/{run['id']}/").json
    assert detail["id"] == run["id"] and isinstance(detail["steps"], list)


def test_execute_refuses_an_invalid_graph_and_unknown_trigger(api):
    wf = _create(api, "Empty")
    assert api.post(f"/workflows/{wf['id']}/execute/").status_code == 400
    ok = _create(api, "Ok", graph=simple_graph())
    resp = api.post(f"/workflows/{ok['id']}/execute/", {"trigger_node_id": "send"})
    assert resp.status_code == 400


def test_unknown_workflow_is_404_everywhere(api):
    for method, path in (
        ("GET", "/workflows/999/"),
        ("PATCH", "/workflows/999/"),
        ("POST", "/workflows/999/activate/"),
        ("GET", "/workflows/999/export/"),
        ("DELETE", "/workflows/999/"),
    ):
        resp = api.call(method, path, {} if method == "PATCH" else None)
        assert resp.status_code == 404 and resp.json["code"] == "not_found", path
