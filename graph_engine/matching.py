"""Trigger matching: which active triggers does an event start?

:class:`TriggerIndex` answers without evaluating every filter:

1. Bucket the specs by event type.
2. Analyse each filter for a *required keyword*: a set of alternatives ``(field, mode,
   keyword)`` at least one of which must occur in that field's text for the filter to be true.
   ``icontains`` leaves give folded keywords (:func:`~graph_engine.conditions.fold_text`),
   ``contains`` leaves raw ones; an ``any`` group requires the union of its children's
   requirements (only if every child has one), an ``all`` group the smallest requirement among
   its children. ``not``, code leaves and other operators give none.
3. Put every keyword of a bucket into one Aho-Corasick automaton per mode, scan the event's
   (folded / raw) field texts once, and collect the specs whose requirement is met. Specs
   without a requirement are always candidates; so are specs whose field is not a string in
   this event, except lists of strings (tags), where ``contains`` / ``icontains`` are
   (folded) membership tests answered with a dict lookup.
4. Evaluate the candidates' full filters (compiled once) in rank order.

The result is exactly :func:`naive_match`'s (property-tested), ordered by descending
``priority``, then ``workflow_id``, then ``node_id``. A filter that is malformed or fails at run
time (a code leaf raising) does not match; ``on_error(spec, exc)`` hears about it.

>>> specs = [TriggerSpec("w1", "t", "MESSAGE_RECEIVED", {"any": [
...     {"field": "event.data.content", "op": "icontains", "value": "coupon"},
...     {"field": "event.data.content", "op": "icontains", "value": "کد تخفیف"}]})]
>>> ctx = {"event": {"type": "MESSAGE_RECEIVED", "data": {"content": "كد تخفيف لطفا"}}}
>>> [s.workflow_id for s in TriggerIndex(specs).match(ctx)]
['w1']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import ahocorasick

from graph_engine.conditions import _getter, compile_rules, evaluate, explain_rules, fold_text
from graph_engine.conditions.operators import _text
from graph_engine.errors import GraphEngineError

__all__ = ["TriggerSpec", "TriggerIndex", "naive_match", "required_keywords", "explain_match"]

Alternatives = frozenset  # of (field, mode, keyword)
ErrorHook = Callable[["TriggerSpec", Exception], None] | None


@dataclass(frozen=True)
class TriggerSpec:
    """One trigger node of an active workflow: its event type and optional filter rules."""

    workflow_id: str
    node_id: str
    event_type: str
    filter: dict | None = field(default=None, hash=False)
    priority: int = 0


def _id_key(value) -> tuple:
    return (0, value, "") if isinstance(value, int) else (1, 0, str(value))


def _rank(spec: TriggerSpec) -> tuple:
    return (-spec.priority, _id_key(spec.workflow_id), _id_key(spec.node_id))


def _leaf_keyword(node: dict) -> Alternatives | None:
    op, path = node.get("op"), node.get("field")
    if op not in ("icontains", "contains") or not isinstance(path, str):
        return None
    value = node.get("value")
    if op == "contains":  # str values only: contains(["12.0"], 12) is true numerically
        return frozenset({(path, "raw", value)}) if type(value) is str and value else None
    text = _text(value)
    keyword = fold_text(text) if text is not None else ""
    return frozenset({(path, "fold", keyword)}) if keyword else None


def _selectivity(alternatives: Alternatives) -> tuple:
    """Sort key for choosing an ``all`` group's requirement: folded text first (``contains``
    is mostly a tag test, and common tags select little), then fewer alternatives, then
    longer keywords."""
    has_raw = any(mode == "raw" for _, mode, _ in alternatives)
    shortest = min((len(k) for _, _, k in alternatives), default=0)
    return (has_raw, len(alternatives), -shortest)


def required_keywords(rules) -> Alternatives | None:
    """The keyword alternatives a match of ``rules`` requires, or ``None`` if there are none.

    An empty set means the rules can never match (``{"any": []}``).

    >>> sorted(required_keywords({"all": [
    ...     {"field": "user.tags", "op": "contains", "value": "vip"},
    ...     {"any": [{"field": "m", "op": "icontains", "value": "Hi"},
    ...              {"field": "m", "op": "icontains", "value": "hello"}]}]}))
    [('m', 'fold', 'hello'), ('m', 'fold', 'hi')]
    """
    if not isinstance(rules, dict):
        return None
    if "any" in rules and isinstance(rules["any"], list):
        found = [required_keywords(child) for child in rules["any"]]
        if any(alternatives is None for alternatives in found):
            return None
        return frozenset().union(*found)
    if "all" in rules and isinstance(rules["all"], list):
        found = [a for a in map(required_keywords, rules["all"]) if a is not None]
        if not found:
            return None
        return min(found, key=_selectivity)
    return _leaf_keyword(rules)


class _Bucket:
    """The specs of one event type, their predicates and keyword automata."""

    def __init__(self, specs: list[TriggerSpec], on_error: ErrorHook):
        self.specs = sorted(specs, key=_rank)
        self.predicates: list = []
        self.always: list[int] = []
        self.by_field: dict[str, set[int]] = {}
        entries: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for i, spec in enumerate(self.specs):
            try:
                self.predicates.append(compile_rules(spec.filter))
            except GraphEngineError as exc:
                self.predicates.append(None)
                if on_error:
                    on_error(spec, exc)
                continue
            alternatives = required_keywords(spec.filter)
            if alternatives is None:
                self.always.append(i)
            for path, mode, keyword in alternatives or ():
                self.by_field.setdefault(path, set()).add(i)
                entries.setdefault((mode, keyword), []).append((path, i))
        self.entries = entries
        self.getters = {path: _getter(path) for path in self.by_field}
        self.automata = {mode: self._automaton(entries, mode) for mode in ("fold", "raw")}

    @staticmethod
    def _automaton(entries: dict, mode: str):
        words = [(keyword, hits) for (m, keyword), hits in entries.items() if m == mode]
        if not words:
            return None
        automaton = ahocorasick.Automaton()
        for keyword, hits in words:
            automaton.add_word(keyword, tuple(hits))
        automaton.make_automaton()
        return automaton

    def candidates(self, context: dict) -> set[int]:
        found = set(self.always)
        for path, getter in self.getters.items():
            value = getter(context)
            kind = type(value)
            if kind is str:
                self._scan(path, value, found)
            elif (kind is list or kind is tuple) and all(type(x) is str for x in value):
                self._members(path, value, found)
            else:  # numbers, dicts, mixed lists, missing: the keywords say nothing
                found |= self.by_field[path]
        return found

    def _scan(self, path: str, value: str, found: set[int]) -> None:
        """Text field: substring keywords, via the automata."""
        for mode, automaton in self.automata.items():
            if automaton is not None:
                text = fold_text(value) if mode == "fold" else value
                for _, hits in automaton.iter(text):
                    found.update(i for hit_path, i in hits if hit_path == path)

    def _members(self, path: str, items, found: set[int]) -> None:
        """List of strings (tags): ``contains`` is membership, ``icontains`` folded membership."""
        for item in items:
            for key in (("raw", item), ("fold", fold_text(item))):
                hits = self.entries.get(key)
                if hits:
                    found.update(i for hit_path, i in hits if hit_path == path)


def _passes(predicate, spec: TriggerSpec, context: dict, on_error: ErrorHook) -> bool:
    try:
        return predicate(context, None)
    except GraphEngineError as exc:
        if on_error:
            on_error(spec, exc)
        return False


class TriggerIndex:
    """An index of trigger specs answering :meth:`match` quickly. Rebuild it to change it."""

    def __init__(self, specs: Iterable[TriggerSpec], *, on_error: ErrorHook = None):
        self.on_error = on_error
        grouped: dict[str, list[TriggerSpec]] = {}
        for spec in specs:
            grouped.setdefault(spec.event_type, []).append(spec)
        self._buckets = {etype: _Bucket(group, on_error) for etype, group in grouped.items()}

    def __len__(self) -> int:
        return sum(len(bucket.specs) for bucket in self._buckets.values())

    def listens_to(self, event_type: str) -> bool:
        """Whether some trigger of the index waits for events of ``event_type``."""
        return event_type in self._buckets

    def match(self, context: dict) -> list[TriggerSpec]:
        """The specs whose event type is ``context["event"]["type"]`` and whose filter holds."""
        event = context.get("event")
        bucket = self._buckets.get(event.get("type") if isinstance(event, dict) else None)
        if bucket is None:
            return []
        matched = []
        for i in sorted(bucket.candidates(context)):
            predicate = bucket.predicates[i]
            if predicate is not None and _passes(
                predicate, bucket.specs[i], context, self.on_error
            ):
                matched.append(bucket.specs[i])
        return matched


def naive_match(
    specs: Iterable[TriggerSpec], context: dict, *, on_error: ErrorHook = None
) -> list[TriggerSpec]:
    """The baseline: evaluate every filter of every spec of the event's type."""
    event = context.get("event")
    etype = event.get("type") if isinstance(event, dict) else None
    matched = []
    for spec in specs:
        if spec.event_type != etype:
            continue
        try:
            ok = evaluate(spec.filter, context)
        except GraphEngineError as exc:
            if on_error:
                on_error(spec, exc)
            ok = False
        if ok:
            matched.append(spec)
    return sorted(matched, key=_rank)


def explain_match(spec: TriggerSpec, context: dict, *, code_runner=None) -> dict:
    """Why ``spec`` does or does not match this event: the explain mode of matching.

    ``{matched, reason, event_type, failing}``: ``reason`` is ``"event_type"`` (the trigger
    listens to another type), ``"filter"`` (``failing`` lists the rules that failed, each with
    the value seen), ``"error"`` (the filter raised) or None when it matches.

    >>> spec = TriggerSpec("w1", "t", "MESSAGE_RECEIVED", {"all": [
    ...     {"field": "user.tags", "op": "contains", "value": "interested"}]})
    >>> out = explain_match(spec, {"event": {"type": "MESSAGE_RECEIVED"}, "user": {"tags": []}})
    >>> out["matched"], out["reason"], out["failing"][0]["actual"]
    (False, 'filter', [])
    """
    event = context.get("event")
    etype = event.get("type") if isinstance(event, dict) else None
    out = {"matched": False, "reason": None, "event_type": spec.event_type, "failing": []}
    if spec.event_type != etype:
        return {**out, "reason": "event_type"}
    try:
        verdict = explain_rules(spec.filter, context, code_runner=code_runner)
    except GraphEngineError as exc:
        return {**out, "reason": "error", "error": str(exc)}
    if not verdict["result"]:
        return {**out, "reason": "filter", "failing": verdict["failing"]}
    return {**out, "matched": True}
