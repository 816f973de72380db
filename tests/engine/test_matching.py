"""Trigger matching: the index returns exactly what evaluating every filter returns."""

from hypothesis import given, settings
from hypothesis import strategies as st

from graph_engine.matching import TriggerIndex, TriggerSpec, naive_match, required_keywords

CONTENT = "event.data.content"


def kw(op, value, field=CONTENT):
    return {"field": field, "op": op, "value": value}


def ctx(content, tags=(), etype="MESSAGE_RECEIVED"):
    return {
        "event": {"type": etype, "data": {"content": content}},
        "user": {"tags": list(tags), "fields": {}},
    }


def test_required_keywords_extraction():
    assert required_keywords({"any": [kw("icontains", "Coupon"), kw("contains", "OFF")]}) == {
        (CONTENT, "fold", "coupon"),
        (CONTENT, "raw", "OFF"),
    }
    tagged = {"all": [kw("contains", "vip", "user.tags"), kw("icontains", "Hi")]}
    assert required_keywords(tagged) == {(CONTENT, "fold", "hi")}  # text beats tag membership
    assert required_keywords({"any": [kw("icontains", "a"), kw("equals", "b")]}) is None
    assert required_keywords({"not": kw("icontains", "a")}) is None
    assert required_keywords({"any": []}) == frozenset()
    assert required_keywords({"all": [kw("icontains", "")]}) is None
    assert required_keywords(None) is None and required_keywords({}) is None


def test_persian_keyword_index():
    spec = TriggerSpec(
        "w1",
        "t",
        "MESSAGE_RECEIVED",
        {"any": [kw("icontains", "coupon"), kw("icontains", "کد تخفیف")]},
    )
    index = TriggerIndex([spec])
    for text in ("كد تخفيف", "کد\u200cتخفیف", "COUPON!", "یک کد تخفیف می‌خواهم"):
        assert index.match(ctx(text)) == [spec]
    assert index.match(ctx("سلام")) == []
    assert index.match(ctx("coupon", etype="USER_CREATED")) == []


def test_ordering_and_no_filter():
    specs = [
        TriggerSpec("b", "t", "MESSAGE_RECEIVED", None),
        TriggerSpec("a", "t2", "MESSAGE_RECEIVED", {}),
        TriggerSpec("a", "t1", "MESSAGE_RECEIVED", None),
        TriggerSpec("z", "t", "MESSAGE_RECEIVED", None, priority=5),
    ]
    got = [(s.workflow_id, s.node_id) for s in TriggerIndex(specs).match(ctx("x"))]
    assert got == [("z", "t"), ("a", "t1"), ("a", "t2"), ("b", "t")]
    assert TriggerIndex(specs).match(ctx("x")) == naive_match(specs, ctx("x"))


def test_non_string_field_falls_back_to_evaluation():
    spec = TriggerSpec("w", "t", "MESSAGE_RECEIVED", {"any": [kw("contains", "vip")]})
    listed = {"event": {"type": "MESSAGE_RECEIVED", "data": {"content": ["vip", "x"]}}}
    assert TriggerIndex([spec]).match(listed) == [spec] == naive_match([spec], listed)
    numeric = TriggerSpec("w", "t", "MESSAGE_RECEIVED", {"any": [kw("icontains", 12)]})
    number = {"event": {"type": "MESSAGE_RECEIVED", "data": {"content": 9912}}}
    assert TriggerIndex([numeric]).match(number) == [numeric]


def test_broken_filters_never_match_and_are_reported():
    errors = []
    bad = TriggerSpec("bad", "t", "MESSAGE_RECEIVED", {"all": [kw("nope", "x")]})
    good = TriggerSpec("good", "t", "MESSAGE_RECEIVED", {"all": [kw("icontains", "x")]})
    index = TriggerIndex([bad, good], on_error=lambda spec, exc: errors.append(spec.workflow_id))
    assert index.match(ctx("x")) == [good] == naive_match([bad, good], ctx("x"))
    assert errors == ["bad"] and len(index) == 2


def test_specs_are_hashable():
    spec = TriggerSpec("w", "t", "E", {"all": []})
    assert spec in {spec}


# --- equivalence property ----------------------------------------------------------------

WORDS = [
    "coupon",
    "Coupon",
    "off",
    "کد تخفیف",
    "كد تخفيف",
    "کد\u200cتخفیف",
    "سلام",
    "price",
    "ß",
    "ss",
    "vip",
    "a",
    "10",
    "تخفیف",
    "COUPON",
    "é",
    "e\u0301",
]
FIELDS = [CONTENT, "user.tags", "event.data.title", "event.data.n"]
leaf = st.builds(
    kw,
    st.sampled_from(
        ["icontains", "contains", "equals", "starts_with", "not_contains", "is_empty", "greater"]
    ),
    st.one_of(st.sampled_from(WORDS), st.integers(0, 20)),
    st.sampled_from(FIELDS),
)
rules = st.recursive(
    leaf,
    lambda kids: st.one_of(
        st.builds(lambda c: {"all": c}, st.lists(kids, max_size=3)),
        st.builds(lambda c: {"any": c}, st.lists(kids, max_size=4)),
        st.builds(lambda c: {"not": c}, kids),
    ),
    max_leaves=8,
)
specs = st.lists(
    st.builds(
        TriggerSpec,
        st.sampled_from(["w1", "w2", "w3", "w4"]),
        st.sampled_from(["t1", "t2"]),
        st.sampled_from(["MESSAGE_RECEIVED", "TAG_ADDED"]),
        st.one_of(st.none(), rules),
        st.integers(0, 2),
    ),
    max_size=12,
)
texts = st.lists(st.sampled_from(WORDS + [" ", "  ", "!", "\u200c"]), max_size=6).map("".join)
contents = st.one_of(
    texts, st.integers(0, 30), st.lists(st.sampled_from(WORDS), max_size=3), st.none()
)
contexts = st.builds(
    lambda c, title, tags, etype: {
        "event": {"type": etype, "data": {"content": c, "title": title, "n": 5}},
        "user": {"tags": tags},
    },
    contents,
    texts,
    st.lists(st.sampled_from(WORDS), max_size=3),
    st.sampled_from(["MESSAGE_RECEIVED", "TAG_ADDED", "USER_CREATED"]),
)


@settings(max_examples=400, deadline=None)
@given(specs, st.lists(contexts, min_size=1, max_size=4))
def test_index_equals_naive(spec_list, context_list):
    index = TriggerIndex(spec_list)
    for context in context_list:
        assert index.match(context) == naive_match(spec_list, context)


keyword_rules = st.one_of(
    st.builds(
        lambda ws: {"any": [kw("icontains", w) for w in ws]},
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    ),
    st.builds(
        lambda ws, tag: {
            "all": [kw("contains", tag, "user.tags"), {"any": [kw("icontains", w) for w in ws]}]
        },
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
        st.sampled_from(WORDS),
    ),
    st.builds(lambda w: kw("contains", w), st.sampled_from(WORDS)),
    st.builds(
        lambda ws: {"any": [kw(op, w, "user.tags") for op, w in ws]},
        st.lists(
            st.tuples(st.sampled_from(["icontains", "contains"]), st.sampled_from(WORDS)),
            min_size=1,
            max_size=2,
        ),
    ),
)
keyword_specs = st.lists(
    st.builds(
        TriggerSpec,
        st.sampled_from(["w1", "w2", "w3"]),
        st.just("t"),
        st.just("MESSAGE_RECEIVED"),
        keyword_rules,
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=400, deadline=None)
@given(keyword_specs, texts, st.lists(st.sampled_from(WORDS), max_size=2))
def test_index_equals_naive_on_keyword_filters(spec_list, text, tags):
    context = ctx(text, tags)
    assert TriggerIndex(spec_list).match(context) == naive_match(spec_list, context)
