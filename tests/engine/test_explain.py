"""The explain mode of conditions and trigger matching: the failing leaf and the value it saw."""

from __future__ import annotations

from graph_engine import TriggerSpec, deciding_leaves, explain, explain_match, explain_rules

CTX = {
    "event": {"type": "MESSAGE_RECEIVED", "data": {"content": "سلام، کد تخفیف دارید؟"}},
    "user": {"tags": ["new"], "fields": {"age": 30}},
}


def leaf(field, op, value=None):
    return {"field": field, "op": op, "value": value}


def test_false_all_reports_only_its_failing_leaf_with_the_value():
    rules = {"all": [leaf("user.fields.age", "greater", 18), leaf("user.tags", "contains", "vip")]}
    out = explain_rules(rules, CTX)
    assert out["result"] is False
    (failing,) = out["failing"]
    assert (failing["field"], failing["expected"], failing["actual"]) == (
        "user.tags",
        "vip",
        ["new"],
    )
    assert failing["text"] == "user.tags contains 'vip': no (value: ['new'])"


def test_false_any_reports_every_alternative_and_true_rules_report_nothing():
    rules = {
        "any": [
            leaf("event.data.content", "icontains", "coupon"),
            leaf("user.fields.age", "less", 18),
        ]
    }
    out = explain_rules(rules, CTX)
    assert [f["field"] for f in out["failing"]] == ["event.data.content", "user.fields.age"]
    assert out["failing"][1]["actual"] == 30
    ok = explain_rules({"any": [leaf("event.data.content", "icontains", "كد تخفيف")]}, CTX)
    assert ok == {"result": True, "failing": [], "tree": ok["tree"]} and ok["tree"]["result"]


def test_not_and_nested_groups_point_at_the_deciding_leaf():
    rules = {
        "all": [
            {"not": leaf("user.tags", "contains", "new")},
            {"any": [leaf("user.fields.age", "between", [18, 40])]},
        ]
    }
    out = explain_rules(rules, CTX)
    assert [f["field"] for f in out["failing"]] == ["user.tags"]
    assert out["failing"][0]["result"] is True  # the leaf was true, so the `not` failed


def test_missing_field_is_flagged():
    out = explain_rules({"all": [leaf("user.fields.city", "equals", "Tehran")]}, CTX)
    (failing,) = out["failing"]
    assert failing["missing"] is True and failing["actual"] is None
    assert "(missing)" in failing["text"]


def test_deciding_leaves_of_a_true_tree_are_the_reasons_it_holds():
    tree = explain(
        {"any": [leaf("user.tags", "contains", "new"), leaf("user.tags", "contains", "x")]}, CTX
    )
    assert [leaf_["expected"] for leaf_ in deciding_leaves(tree)] == ["new"]


def test_explain_match_names_the_reason():
    spec = TriggerSpec(1, "t", "MESSAGE_RECEIVED", {"all": [leaf("user.tags", "contains", "vip")]})
    assert explain_match(spec, {**CTX, "event": {"type": "USER_CREATED"}})["reason"] == "event_type"
    out = explain_match(spec, CTX)
    assert (out["matched"], out["reason"], out["failing"][0]["actual"]) == (
        False,
        "filter",
        ["new"],
    )
    assert explain_match(spec, {**CTX, "user": {"tags": ["vip"]}}) == {
        "matched": True,
        "reason": None,
        "event_type": "MESSAGE_RECEIVED",
        "failing": [],
    }
    broken = TriggerSpec(1, "t", "MESSAGE_RECEIVED", {"all": [leaf("x", "nope", 1)]})
    assert explain_match(broken, CTX)["reason"] == "error"
