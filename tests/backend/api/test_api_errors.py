"""Bad input is a JSON 4xx naming the problem, never a 500."""

from __future__ import annotations

import pytest
from apikit import BASE


def test_malformed_json(api):
    resp = api.post("/workflows/", raw=b'{"name": ')
    assert resp.status_code == 400 and resp.json["code"] == "bad_request"
    assert "malformed JSON" in resp.json["detail"]


@pytest.mark.parametrize(
    "raw", [b'{"name": NaN}', b'{"name": Infinity}', b"\xff\xfe", b"[" * 5000 + b"]" * 5000]
)
def test_json_edge_cases_are_400(api, raw):
    assert api.post("/workflows/", raw=raw).status_code == 400


def test_nul_characters_are_refused_by_field(api):
    resp = api.post("/workflows/", {"name": "a\u0000b"})
    assert resp.status_code == 400 and resp.json["field"] == "name"
    assert api.get("/workflows/", search="a\u0000").status_code == 400


def test_wrong_types_and_unknown_fields_name_the_field(api):
    wrong = api.post("/workflows/", {"name": 5})
    assert wrong.status_code == 400 and wrong.json["field"] == "name"
    unknown = api.post("/workflows/", {"name": "x", "colour": "red"})
    assert unknown.status_code == 400 and unknown.json["field"] == "colour"
    assert unknown.json["errors"] == [{"field": "colour", "message": "unknown field"}]
    nested = api.post(
        "/workflows/",
        {
            "name": "x",
            "graph": {"format": "workflow-graph/v1", "nodes": [{"id": "a"}], "edges": []},
        },
    )
    assert nested.status_code == 400 and nested.json["field"] == "graph.nodes.0.type"
    not_object = api.post("/workflows/", [1, 2])
    assert not_object.status_code == 400


def test_non_json_content_type_is_415(api):
    resp = api.post("/workflows/", raw="name=x", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415 and resp.json["field"] == "Content-Type"


def test_missing_body_is_400(api):
    assert api.post("/workflows/").status_code == 400


def test_oversized_body_is_413(api, app):
    big = b'{"name": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1) + b'"}'
    resp = api.post("/workflows/", raw=big)
    assert resp.status_code == 413 and resp.json["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "path",
    [
        "/workflows/abc/",
        "/workflows/0/",
        "/workflows/-1/",
        "/workflows/99999999999999999999/",
        "/contacts/2147483648/",
        "/no-such-thing/",
    ],
)
def test_bad_ids_and_unknown_paths_are_json_404(api, path):
    resp = api.get(path)
    assert resp.status_code == 404 and resp.json["code"] == "not_found"


def test_method_not_allowed_is_json_405(api):
    resp = api.call("DELETE", "/workflows/")
    assert resp.status_code == 405 and resp.json["code"] == "method_not_allowed"
    assert "GET" in resp.headers["Allow"]


def test_bad_query_values(api):
    assert api.get("/workflows/", page="x").json["field"] == "page"
    assert api.get("/workflows/", page_size="100000").json["field"] == "page_size"
    assert api.get("/workflows/", page="0").status_code == 400
    assert api.get("/workflows/", page="50").json["results"] == []


def test_graph_too_large(api, app):
    nodes = [
        {"id": f"n{i}", "type": "action.add_tag", "params": {"tag": "x"}}
        for i in range(app.config["MAX_GRAPH_NODES"] + 1)
    ]
    resp = api.post(
        "/workflows/",
        {"name": "big", "graph": {"format": "workflow-graph/v1", "nodes": nodes, "edges": []}},
    )
    assert resp.status_code == 400 and resp.json["field"] == "graph.nodes"


def test_edge_to_unknown_node_is_refused_at_save(api):
    graph = {
        "format": "workflow-graph/v1",
        "nodes": [{"id": "a", "type": "trigger.manual"}],
        "edges": [{"id": "e", "source": "a", "target": 7}],
    }
    assert api.post("/workflows/", {"name": "g", "graph": graph}).status_code == 400


def test_pages_keep_html_errors(client, seeded):
    resp = client.get("/definitely-not-here")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    assert client.get(BASE + "/workflows/").mimetype == "application/json"
