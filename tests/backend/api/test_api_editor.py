"""The editor's endpoints: validate, save conflicts, versions, restore, duplicate, list figures,
samples, template preview, code check and context paths (issue 7)."""

from __future__ import annotations

import copy
from datetime import timedelta

from apikit import coupon_graph, simple_graph


def _create(api, name="W", graph=None):
    resp = api.post("/workflows/", {"name": name, "graph": graph or simple_graph()})
    assert resp.status_code == 201, resp.json
    return resp.json


def _runs(workflow_id, *rows):
    """Insert runs ``(status, created_at)`` for ``workflow_id``."""
    from backend.extensions import db
    from backend.models import WorkflowExecution

    for status, at in rows:
        db.session.add(
            WorkflowExecution(
                workflow_id=workflow_id, trigger_node_id="start", status=status, created_at=at
            )
        )
    db.session.commit()


# -- validate ------------------------------------------------------------------------------------


def test_validate_reports_errors_naming_nodes_without_saving(api):
    ok = api.post("/workflows/validate/", simple_graph())
    assert ok.status_code == 200 and ok.json == {"ok": True, "errors": [], "warnings": []}
    graph = simple_graph()
    graph["nodes"][1]["params"] = {}
    graph["edges"].append({"id": "e2", "source": "send", "target": "ghost"})
    report = api.post("/workflows/validate/", graph).json
    assert report["ok"] is False
    assert {e.get("node_id") for e in report["errors"]} >= {"send"}
    assert any(e.get("edge_id") == "e2" for e in report["errors"])
    send_error = next(e for e in report["errors"] if e.get("node_id") == "send")
    assert send_error["severity"] == "error" and send_error["code"]
    assert api.get("/workflows/").json["count"] == 0


def test_validate_reports_a_non_graph_instead_of_failing(api):
    report = api.post("/workflows/validate/", {"nodes": "x"}).json
    assert report["ok"] is False and report["errors"]
    assert api.post("/workflows/validate/", raw="[1, 2]").status_code == 400


# -- base_version ---------------------------------------------------------------------------------


def test_save_with_current_base_version_succeeds_and_stale_one_conflicts(api, admin):
    wf = _create(api)
    path = f"/workflows/{wf['id']}/"
    first = api.put(path, {"name": "W", "graph": simple_graph("one"), "base_version": 1})
    assert first.status_code == 200 and first.json["version"] == 2
    # admin saves meanwhile on top of version 2
    assert admin.patch(path, {"graph": simple_graph("two"), "base_version": 2}).json["version"] == 3
    stale = api.put(path, {"name": "W", "graph": simple_graph("mine"), "base_version": 2})
    assert stale.status_code == 409
    body = stale.json
    assert body["error"] == "conflict" and body["current_version"] == 3
    assert body["updated_by"] == admin.user.id and body["updated_by_email"] == admin.user.email
    assert body["updated_at"] and "someone else" in body["detail"]
    current = api.get(path).json
    assert current["version"] == 3 and current["graph"]["nodes"][1]["params"]["text"] == "two"
    assert api.patch(path, {"description": "x", "base_version": 2}).status_code == 409
    assert api.patch(path, {"description": "x", "base_version": 3}).status_code == 200


def test_base_version_must_be_a_positive_integer(api):
    wf = _create(api)
    resp = api.patch(f"/workflows/{wf['id']}/", {"base_version": "one"})
    assert resp.status_code == 400 and resp.json["field"] == "base_version"
    resp = api.patch(f"/workflows/{wf['id']}/", {"base_version": 0})
    assert resp.status_code == 400 and resp.json["field"] == "base_version"
    assert api.patch("/workflows/9999/", {"base_version": 1}).status_code == 404


# -- versions -------------------------------------------------------------------------------------


def test_get_one_version_with_its_author(api, viewer):
    wf = _create(api, "History")
    api.put(f"/workflows/{wf['id']}/", {"name": "History", "graph": simple_graph("v2")})
    one = viewer.get(f"/workflows/{wf['id']}/versions/1/")
    assert one.status_code == 200
    assert one.json["version"] == 1 and one.json["created_by"] == api.user.id
    assert one.json["created_by_email"] == api.user.email and one.json["name"] == "Simple"
    assert one.json["graph"]["nodes"][1]["params"]["text"] == "Hi {{ user.first_name }}"
    assert one.json["created_at"].endswith("Z") and one.json["is_current"] is False
    missing = viewer.get(f"/workflows/{wf['id']}/versions/7/")
    assert missing.status_code == 404 and missing.json["field"] == "version"
    assert viewer.get("/workflows/999/versions/1/").status_code == 404


def test_restore_saves_an_old_graph_as_a_new_version(api, viewer):
    wf = _create(api, "Restore")
    api.put(f"/workflows/{wf['id']}/", {"name": "Restore", "graph": simple_graph("v2")})
    assert viewer.post(f"/workflows/{wf['id']}/versions/1/restore/").status_code == 403
    restored = api.post(f"/workflows/{wf['id']}/versions/1/restore/")
    assert restored.status_code == 200 and restored.json["version"] == 3
    assert restored.json["graph"] == simple_graph()
    again = api.post(f"/workflows/{wf['id']}/versions/3/restore/").json
    assert again["version"] == 4  # restoring the current graph is still a new version
    listed = api.get(f"/workflows/{wf['id']}/versions/").json["results"]
    assert [v["version"] for v in listed] == [4, 3, 2, 1]
    assert api.post(f"/workflows/{wf['id']}/versions/9/restore/").status_code == 404


def test_restore_of_an_invalid_version_onto_an_active_workflow_is_refused(api):
    broken = simple_graph()
    broken["nodes"][1]["params"] = {}
    wf = _create(api, "Active", graph=broken)
    api.put(f"/workflows/{wf['id']}/", {"name": "Active", "graph": simple_graph()})
    assert api.post(f"/workflows/{wf['id']}/activate/").status_code == 200
    resp = api.post(f"/workflows/{wf['id']}/versions/1/restore/")
    assert resp.status_code == 400 and resp.json["errors"][0]["node_id"] == "send"
    assert api.get(f"/workflows/{wf['id']}/").json["version"] == 2


# -- duplicate ------------------------------------------------------------------------------------


def test_duplicate_makes_a_draft_copy(api, viewer):
    wf = _create(api, "Coupon", graph=coupon_graph())
    assert api.post(f"/workflows/{wf['id']}/activate/").status_code == 200
    assert viewer.post(f"/workflows/{wf['id']}/duplicate/").status_code == 403
    copy_ = api.post(f"/workflows/{wf['id']}/duplicate/")
    assert copy_.status_code == 201
    body = copy_.json
    assert body["name"] == "Coupon (copy)" and body["status"] == "draft" and body["version"] == 1
    assert body["id"] != wf["id"] and body["graph"]["nodes"] == coupon_graph()["nodes"]
    assert body["graph"]["edges"] == coupon_graph()["edges"]
    assert api.post("/workflows/999/duplicate/").status_code == 404


# -- list figures ---------------------------------------------------------------------------------


def test_list_items_carry_last_run_runs_today_and_success_rate(api, viewer):
    from backend.models import utcnow

    busy = _create(api, "Busy")
    _create(api, "Idle")
    now = utcnow()
    _runs(
        busy["id"],
        ("succeeded", now),
        ("failed", now),
        ("succeeded", now),
        ("succeeded", now - timedelta(days=3)),
        ("failed", now - timedelta(days=10)),
        ("running", now),
    )
    items = {w["name"]: w for w in viewer.get("/workflows/").json["results"]}
    assert items["Busy"]["runs_today"] == 4
    assert items["Busy"]["success_rate"] == 0.75  # 3 of 4 finished in 7 days
    assert items["Busy"]["last_run_at"].startswith(now.date().isoformat())
    assert (
        items["Idle"]["last_run_at"],
        items["Idle"]["runs_today"],
        items["Idle"]["success_rate"],
    ) == (None, 0, None)


def test_list_figures_count_today_from_utc_midnight(api):
    from datetime import UTC, datetime

    from backend.services.run_stats import list_figures

    wf = _create(api)
    now = datetime(2026, 3, 10, 0, 30, tzinfo=UTC)
    _runs(
        wf["id"],
        ("succeeded", now - timedelta(minutes=20)),
        ("failed", now - timedelta(minutes=40)),
    )
    figures = list_figures([wf["id"]], now=now)[wf["id"]]
    assert figures["runs_today"] == 1 and figures["success_rate"] == 0.5
    assert figures["last_run_at"] == "2026-03-10T00:10:00Z"


# -- samples, template preview, code check, context paths -----------------------------------------


def test_samples_are_the_bootstrap_graphs_and_valid(api, viewer):
    samples = viewer.get("/workflow-samples/").json
    assert [s["key"] for s in samples] == ["coupon", "welcome"]
    assert samples[0]["graph"] == coupon_graph() and samples[0]["description"]
    for sample in samples:
        assert api.post("/workflows/validate/", sample["graph"]).json["ok"] is True


def test_render_template_previews_persian_text(api):
    body = {
        "template": "{{ user.first_name }} عزیز، {{ event.data.content | upper }}{{ user.x }}",
        "context": {"user": {"first_name": "سارا"}, "event": {"data": {"content": "hi"}}},
    }
    resp = api.post("/tools/render-template/", body)
    assert resp.status_code == 200 and resp.json == {"ok": True, "text": "سارا عزیز، HI"}
    plain = api.post("/tools/render-template/", {"template": "no vars"}).json
    assert plain["text"] == "no vars"


def test_render_template_errors_are_400_naming_the_template(api):
    bad = api.post("/tools/render-template/", {"template": "{{ user.name }", "context": {}})
    assert bad.status_code == 400
    assert bad.json["error"] == "template_error" and bad.json["field"] == "template"
    assert "syntax error" in bad.json["detail"]
    unsafe = api.post("/tools/render-template/", {"template": "{{ user.__class__ }}"})
    assert unsafe.status_code == 400 and unsafe.json["error"] == "template_error"
    missing = api.post("/tools/render-template/", {"context": {}})
    assert missing.status_code == 400 and missing.json["field"] == "template"


def test_check_code_lists_errors_with_line_and_column(api):
    ok = api.post("/tools/check-code/", {"code": "return user['tags'] == ['vip']"}).json
    assert ok == {"ok": True, "errors": []}
    syntax = api.post("/tools/check-code/", {"code": "a = 1\nb = (2"}).json
    assert syntax["ok"] is False
    assert syntax["errors"][0]["line"] == 2 and syntax["errors"][0]["column"] == 5
    assert "never closed" in syntax["errors"][0]["message"]
    policy = api.post("/tools/check-code/", {"code": "x = 1\nreturn x.__class__"}).json
    assert policy["errors"][0]["line"] == 2 and "__class__" in policy["errors"][0]["message"]
    bad = api.post("/tools/check-code/", {"code": 5})
    assert bad.status_code == 400 and bad.json["field"] == "code"


def test_context_paths_include_seen_fields_event_keys_and_nodes(api, viewer):
    from backend.extensions import db
    from backend.models import EventLog

    api.post("/contacts/", {"external_id": "c1", "fields": {"city": "Tabriz", "age": 30}})
    db.session.add(
        EventLog(
            event_type="MESSAGE_RECEIVED",
            idempotency_key="k1",
            payload={
                "event_type": "MESSAGE_RECEIVED",
                "data": {"content": "hi", "order_total": 12.5},
            },
        )
    )
    db.session.commit()
    wf = _create(api, graph=coupon_graph())
    paths = {p["path"]: p for p in viewer.get("/context-paths/").json}
    assert {"event.data.content", "user.tags", "conversation.status"} <= set(paths)
    assert paths["user.fields.city"]["type"] == "string"
    assert paths["user.fields.age"]["type"] == "integer"
    assert paths["event.data.order_total"]["type"] == "number"
    assert not any(p.startswith("nodes.") for p in paths)
    scoped = {p["path"] for p in viewer.get("/context-paths/", workflow_id=wf["id"]).json}
    assert {"nodes.send", "nodes.interested"} <= scoped
    assert "event.data.order_total" not in scoped  # no run of this workflow saw that event
    bad = viewer.get("/context-paths/", workflow_id="x")
    assert bad.status_code == 400 and bad.json["field"] == "workflow_id"


def test_viewer_may_read_but_not_use_the_editing_tools(viewer, anon):
    assert viewer.get("/workflow-samples/").status_code == 200
    assert viewer.get("/context-paths/").status_code == 200
    for path, body in (
        ("/workflows/validate/", simple_graph()),
        ("/tools/render-template/", {"template": "x"}),
        ("/tools/check-code/", {"code": "return 1"}),
    ):
        assert viewer.post(path, body).status_code == 403, path
        assert anon.post(path, body).status_code == 401, path
    assert anon.get("/workflow-samples/").status_code == 401


def test_validate_does_not_change_the_graph_it_is_given(api):
    graph = coupon_graph()
    before = copy.deepcopy(graph)
    api.post("/workflows/validate/", graph)
    assert graph == before
