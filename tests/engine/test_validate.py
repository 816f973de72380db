"""Validation: every error kind, each naming its node or edge; property tests for round trips."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_engine import Graph, ValidationError, validate, validate_or_raise


def base() -> dict:
    return {
        "format": "workflow-graph/v1",
        "name": "ok",
        "settings": {"reentry": "always", "timezone": "Asia/Tehran"},
        "nodes": [
            {"id": "t", "type": "trigger.message_received", "params": {"keywords": ["coupon"]}},
            {
                "id": "c",
                "type": "logic.condition",
                "params": {
                    "rules": {"all": [{"field": "user.tags", "op": "contains", "value": "x"}]}
                },
            },
            {
                "id": "s",
                "type": "action.send_message",
                "params": {"text": "Hi {{ user.first_name }}"},
            },
        ],
        "edges": [
            {"id": "e1", "source": "t", "target": "c"},
            {"id": "e2", "source": "c", "source_port": "true", "target": "s"},
        ],
    }


def issues(graph, kind="errors"):
    report = validate(graph)
    return [(i.code, i.node_id, i.edge_id, i.field) for i in getattr(report, kind)]


def node(graph, node_id):
    return next(n for n in graph["nodes"] if n["id"] == node_id)


def test_valid_graph_is_ok_and_round_trips():
    graph = base()
    report = validate(graph)
    assert report.ok and report.errors == [] and report.warnings == []
    assert Graph.from_dict(graph).to_dict() == graph
    assert validate_or_raise(graph).to_dict() == base()


@pytest.mark.parametrize(
    "data, field",
    [
        ([], None),
        ({"format": "workflow-graph/v1", "nodes": {}, "edges": []}, "nodes"),
        ({"format": "workflow-graph/v1", "nodes": [], "edges": "x"}, "edges"),
    ],
)
def test_malformed_top_level_is_an_issue_not_an_exception(data, field):
    errors = validate(data).errors
    assert errors[-1].code == "malformed" and errors[-1].field == field


def test_malformed_nodes_and_edges_are_issues():
    graph = base()
    graph["nodes"] += [5, {"id": 7, "type": "action.add_tag"}, {"type": "x"}]
    graph["edges"] += ["e", {"id": None, "source": "t", "target": "s"}]
    got = issues(graph)
    assert ("malformed", None, None, "nodes[3]") in got
    assert ("bad_id", None, None, "nodes[4].id") in got
    assert ("bad_id", None, None, "nodes[5].id") in got
    assert ("malformed", None, None, "edges[2]") in got
    assert ("bad_id", None, None, "edges[3].id") in got


@pytest.mark.parametrize("fmt", [None, "workflow-graph/v2", 1])
def test_wrong_or_missing_format(fmt):
    graph = base()
    if fmt is None:
        del graph["format"]
    else:
        graph["format"] = fmt
    assert issues(graph)[0] == ("bad_format", None, None, "format")


def test_duplicate_node_and_edge_ids():
    graph = base()
    graph["nodes"].append({"id": "s", "type": "action.add_tag", "params": {"tag": "x"}})
    graph["edges"].append({"id": "e1", "source": "c", "source_port": "false", "target": "s"})
    got = issues(graph)
    assert ("duplicate_id", "s", None, None) in got and ("duplicate_id", None, "e1", None) in got


def test_unknown_node_type():
    graph = base()
    node(graph, "s")["type"] = "action.teleport"
    assert ("unknown_node_type", "s", None, None) in issues(graph)


def test_dangling_edges():
    graph = base()
    graph["edges"] += [
        {"id": "e3", "source": "ghost", "target": "s"},
        {"id": "e4", "source": "s", "target": "nowhere"},
    ]
    got = issues(graph)
    assert ("dangling_edge", None, "e3", "source") in got
    assert ("dangling_edge", None, "e4", "target") in got


def test_unknown_port_and_edge_into_a_trigger():
    graph = base()
    graph["edges"][1]["source_port"] = "maybe"
    graph["edges"].append({"id": "e3", "source": "s", "target": "t"})
    got = issues(graph)
    assert ("unknown_port", None, "e2", "source_port") in got
    assert ("unknown_port", None, "e3", "target") in got
    message = validate(graph).errors[0].message
    assert "'maybe'" in message and "true, false" in message


def test_dynamic_ports_follow_params():
    graph = base()
    graph["nodes"].append(
        {
            "id": "sw",
            "type": "logic.switch",
            "params": {"cases": [{"name": "vip", "rules": {"all": []}}]},
        }
    )
    graph["edges"] += [
        {"id": "e3", "source": "s", "target": "sw"},
        {"id": "e4", "source": "sw", "source_port": "vip", "target": "c"},
        {"id": "e5", "source": "sw", "source_port": "default", "target": "c"},
        {"id": "e6", "source": "sw", "source_port": "gold", "target": "c"},
        {"id": "e7", "source": "t", "source_port": "error", "target": "c"},
        {"id": "e8", "source": "s", "source_port": "error", "target": "c"},
    ]
    got = [i for i in issues(graph) if i[0] == "unknown_port"]
    assert got == [
        ("unknown_port", None, "e6", "source_port"),
        ("unknown_port", None, "e7", "source_port"),
    ]


def test_no_trigger():
    graph = base()
    graph["nodes"] = graph["nodes"][1:]
    graph["edges"] = graph["edges"][1:]
    assert ("no_trigger", None, None, None) in issues(graph)


@pytest.mark.parametrize(
    "node_id, params, field",
    [
        ("s", {}, "text"),
        ("s", {"text": 5}, "text"),
        ("s", {"text": "hi", "colour": "red"}, ""),
        (
            "c",
            {"rules": {"all": [{"field": "user.tags", "op": "nope", "value": 1}]}},
            "rules.all[0].op",
        ),
        (
            "c",
            {"rules": {"all": [{"field": "x", "op": "matches_regex", "value": "(a"}]}},
            "rules.all[0]",
        ),
        ("s", {"text": "Hi {{ user.first_name"}, "text"),
    ],
)
def test_invalid_params_name_the_param_path(node_id, params, field):
    graph = base()
    node(graph, node_id)["params"] = params
    errors = [i for i in validate(graph).errors if i.code == "invalid_params"]
    assert errors and all(i.node_id == node_id for i in errors)
    assert any((i.field or "").startswith(field) for i in errors), errors


def test_nested_param_paths_and_switch_rules():
    graph = base()
    graph["nodes"].append(
        {
            "id": "sw",
            "type": "logic.switch",
            "params": {
                "cases": [
                    {"name": "ok", "rules": {"all": []}},
                    {"name": "bad name!", "rules": {"all": []}},
                    {"name": "r", "rules": {"any": [{"field": "a", "op": "bogus"}]}},
                ]
            },
        }
    )
    got = {i.field for i in validate(graph).errors if i.node_id == "sw"}
    assert "cases[1].name" in got and any(f.startswith("cases[2].rules") for f in got)


def test_template_fields_inside_objects_and_code_that_does_not_compile():
    graph = base()
    graph["nodes"] += [
        {
            "id": "w",
            "type": "action.webhook",
            "params": {"url": "https://x.io/{{ user.id }}", "body": {"a": ["ok", "{% if %}"]}},
        },
        {"id": "cc", "type": "action.custom_code", "params": {"code": "def broken(:\n  pass"}},
    ]
    got = issues(graph)
    assert ("invalid_params", "w", None, "body.a[1]") in got
    assert any(i[:2] == ("invalid_params", "cc") and i[3] == "code" for i in got)


def test_type_specific_checks():
    graph = base()
    graph["nodes"] += [
        {"id": "cron", "type": "trigger.schedule", "params": {"cron": "61 * * * *"}},
        {"id": "w1", "type": "flow.wait", "params": {"minutes": 5, "time": "09:00"}},
        {"id": "w2", "type": "flow.wait", "params": {"until": "next tuesday"}},
        {"id": "ev", "type": "trigger.event", "params": {"event_type": "order-paid"}},
    ]
    got = issues(graph)
    assert ("invalid_params", "cron", None, "cron") in got
    assert ("invalid_params", "w1", None, None) in got
    assert ("invalid_params", "w2", None, "until") in got
    assert ("invalid_params", "ev", None, "event_type") in got


def test_cycle_must_pass_through_a_wait():
    graph = base()
    graph["nodes"].append({"id": "w", "type": "flow.wait", "params": {"minutes": 1}})
    graph["edges"].append({"id": "e3", "source": "s", "target": "c"})
    cycle = [i for i in validate(graph).errors if i.code == "cycle"]
    assert len(cycle) == 1 and cycle[0].node_id in {"c", "s"} and "flow.wait" in cycle[0].message
    graph["edges"][-1] = {"id": "e3", "source": "s", "target": "w"}
    graph["edges"].append({"id": "e4", "source": "w", "target": "c"})
    assert validate(graph).ok
    graph["edges"].append({"id": "e5", "source": "s", "target": "s"})  # a self-loop
    assert [i.node_id for i in validate(graph).errors if i.code == "cycle"] == ["s"]


def test_unreachable_node_is_a_warning():
    graph = base()
    graph["nodes"].append({"id": "lonely", "type": "action.add_tag", "params": {"tag": "x"}})
    report = validate(graph)
    assert report.ok and [(i.code, i.node_id, i.severity) for i in report.warnings] == [
        ("unreachable", "lonely", "warning")
    ]


def test_size_caps():
    graph = base()
    assert [i.code for i in validate(graph, max_nodes=2).errors] == ["too_large"]
    assert [i.code for i in validate(graph, max_edges=1).errors] == ["too_large"]


@pytest.mark.parametrize(
    "settings, field",
    [
        ({"timezone": "Mars/Olympus"}, "settings.timezone"),
        ({"timezone": "../../etc/passwd"}, "settings.timezone"),
        ({"reentry": "sometimes"}, "settings.reentry"),
        ({"reentry": "once_per_hours"}, "settings"),
        ({"reentry_hours": 0}, "settings.reentry_hours"),
        ({"max_runs_per_contact_per_day": "3"}, "settings.max_runs_per_contact_per_day"),
        ({"speed": "fast"}, "settings"),
        ("UTC", "settings"),
    ],
)
def test_bad_settings(settings, field):
    graph = base()
    graph["settings"] = settings
    assert ("bad_settings", None, None, field) in issues(graph)


def test_node_extras_retry_position_title_disabled():
    graph = base()
    node(graph, "s").update(retry={"max_attempts": 0}, position={"x": "1"}, title=3, disabled="no")
    got = {(i[0], i[3]) for i in issues(graph) if i[1] == "s"}
    assert got == {
        ("bad_retry", "retry.max_attempts"),
        ("malformed", "position"),
        ("malformed", "title"),
        ("malformed", "disabled"),
    }


def test_validate_or_raise_lists_every_error():
    graph = base()
    node(graph, "s")["type"] = "nope"
    graph["edges"].append({"id": "e9", "source": "x", "target": "c"})
    with pytest.raises(ValidationError) as info:
        validate_or_raise(graph)
    assert {str(i) for i in info.value.issues} == {
        "node s: unknown node type 'nope'",
        "edge e9 (source): source 'x' is not a node of this graph",
    }


# -- property tests -------------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_characters="{}%#"), max_size=20)
_leaf = st.fixed_dictionaries(
    {
        "field": st.sampled_from(["user.tags", "event.data.content"]),
        "op": st.sampled_from(["contains", "equals", "icontains"]),
        "value": _text,
    }
)
_BODIES = {
    "action.add_tag": st.fixed_dictionaries({"tag": _text.filter(bool)}),
    "action.send_message": st.fixed_dictionaries({"text": _text.filter(bool)}),
    "logic.condition": st.fixed_dictionaries(
        {"rules": st.fixed_dictionaries({"any": st.lists(_leaf, max_size=3)})}
    ),
    "flow.wait": st.fixed_dictionaries({"minutes": st.integers(0, 1000)}),
    "logic.merge": st.fixed_dictionaries({}, optional={"mode": st.sampled_from(["all", "any"])}),
    "action.update_user": st.fixed_dictionaries(
        {"changes": st.fixed_dictionaries({"fields.score": st.integers(-5, 5)})}
    ),
}
_PORTS = {"logic.condition": ["true", "false"]}


@st.composite
def valid_graphs(draw):
    ids = draw(st.lists(st.text(min_size=1, max_size=6), min_size=2, max_size=10, unique=True))
    trigger = draw(st.sampled_from(["trigger.manual", "trigger.user_created"]))
    nodes = [{"id": ids[0], "type": trigger}]
    for node_id in ids[1:]:
        type_name = draw(st.sampled_from(sorted(_BODIES)))
        item = {"id": node_id, "type": type_name, "params": draw(_BODIES[type_name])}
        if draw(st.booleans()):
            item["position"] = {"x": draw(st.integers(-999, 999)), "y": draw(st.floats(-1e3, 1e3))}
        if draw(st.booleans()):
            item["title"] = draw(_text)
        nodes.append(item)
    edges = []
    for i, item in enumerate(nodes[1:], 1):  # each node hangs off an earlier one: a DAG
        parent = nodes[draw(st.integers(0, i - 1))]
        edge = {"id": f"edge-{i}", "source": parent["id"], "target": item["id"]}
        ports = _PORTS.get(parent["type"])
        if ports:
            edge["source_port"] = draw(st.sampled_from(ports))
        edges.append(edge)
    graph = {"format": "workflow-graph/v1", "name": draw(_text), "nodes": nodes, "edges": edges}
    if draw(st.booleans()):
        graph["settings"] = {
            "timezone": draw(st.sampled_from(["UTC", "Asia/Tehran"])),
            "reentry": draw(st.sampled_from(["always", "once"])),
        }
    return graph


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_graphs())
def test_random_valid_graphs_validate_and_round_trip(graph):
    original = copy.deepcopy(graph)
    report = validate(graph)
    assert report.ok, report.errors
    assert graph == original  # validation does not touch the graph
    assert Graph.from_dict(graph).to_dict() == original
    assert Graph.from_dict(json.loads(json.dumps(graph))).to_dict() == original


def test_unknown_keys_are_warnings():
    graph = base()
    graph["viewport"] = {"zoom": 1}
    node(graph, "s")["colour"] = "red"
    graph["edges"][0]["animated"] = True
    report = validate(graph)
    assert report.ok
    assert [(i.code, i.node_id, i.edge_id, i.field) for i in report.warnings] == [
        ("unknown_key", None, None, "viewport"),
        ("unknown_key", "s", None, "colour"),
        ("unknown_key", None, "e1", "animated"),
    ]


def test_editor_notes_under_ui_are_accepted_and_checked():
    graph = base()
    graph["ui"] = {
        "notes": [
            {
                "id": "n1",
                "text": "کد تخفیف: ask Sara",
                "position": {"x": 5, "y": 9},
                "width": 220,
                "height": 120,
            }
        ]
    }
    report = validate(graph)
    assert report.ok and report.warnings == []
    assert Graph.from_dict(graph).to_dict()["ui"] == graph["ui"]
    graph["ui"] = {"notes": [{"id": "n1", "position": {"x": "left"}}]}
    bad = validate(graph)
    assert {(i.code, i.field) for i in bad.errors} == {
        ("bad_ui", "ui.notes[0]"),
        ("bad_ui", "ui.notes[0].position"),
        ("bad_ui", "ui.notes[0].position.x"),
    }
    graph["ui"] = "notes"
    assert [(i.code, i.field) for i in validate(graph).errors] == [("bad_ui", "ui")]
