"""Flow node types: ``flow.wait`` pauses a branch until a later time.

A wait accepts one of three forms of params:

* a duration: any of ``seconds``, ``minutes``, ``hours``, ``days`` (summed);
* ``until``: an ISO datetime (a template is allowed; naive values are in the workflow timezone);
* ``time``: a time of day ``"HH:MM"`` in the workflow timezone, optionally only on ``weekdays``.

The wait returns ``resume_at``; the interpreter puts its successors in the frontier with
``not_before`` and the run reports ``waiting`` until then.

>>> now = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)  # a Friday, 15:30 in Tehran
>>> resume_at({"minutes": 10}, now, "UTC").isoformat()
'2024-03-01T12:10:00+00:00'
>>> resume_at({"time": "09:00"}, now, "Asia/Tehran").isoformat()
'2024-03-02T05:30:00+00:00'
>>> resume_at({"time": "09:00", "weekdays": ["mon"]}, now, "Asia/Tehran").isoformat()
'2024-03-04T05:30:00+00:00'
"""

from __future__ import annotations

__all__ = ["NODE_TYPES", "resume_at", "WEEKDAYS"]

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from graph_engine.errors import NodeError
from graph_engine.nodes import NodeCall, NodeResult
from graph_engine.nodes.triggers import valid_timezone
from graph_engine.registry import NodeType

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UNITS = ("seconds", "minutes", "hours", "days")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def resume_at(params: dict, now: datetime, timezone: str = "UTC") -> datetime:
    """When a wait with these (rendered) params started at ``now`` ends (aware, UTC)."""
    tz = ZoneInfo(params.get("timezone") or timezone or "UTC")
    if params.get("until"):
        until = datetime.fromisoformat(str(params["until"]).strip())
        if until.tzinfo is None:
            until = until.replace(tzinfo=tz)
        return until.astimezone(UTC)
    if params.get("time"):
        return _next_time_of_day(params["time"], params.get("weekdays") or WEEKDAYS, now, tz)
    delta = timedelta(**{unit: float(params.get(unit) or 0) for unit in _UNITS})
    return now + delta


def _next_time_of_day(hhmm: str, weekdays, now: datetime, tz: ZoneInfo) -> datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    local_now = now.astimezone(tz)
    allowed = {WEEKDAYS.index(day) for day in weekdays}
    for offset in range(8):
        day = local_now.date() + timedelta(days=offset)
        if day.weekday() not in allowed:
            continue
        candidate = datetime.combine(day, time(hour, minute), tzinfo=tz)
        if candidate >= local_now:
            return candidate.astimezone(UTC)
    raise ValueError("no allowed weekday")  # unreachable with a non-empty weekday list


def _run_wait(call: NodeCall) -> NodeResult:
    params = call.render(call.params)
    timezone = (call.context.get("workflow") or {}).get("timezone") or "UTC"
    try:
        when = resume_at(params, call.now, timezone)
    except (ValueError, TypeError, OverflowError) as exc:
        raise NodeError(call.node_id, f"cannot compute the wait: {exc}") from exc
    # A duration can be shortened by the caller (demos, end-to-end tests): effects may carry a
    # ``wait_scale`` factor. Calendar forms (until, time of day) are never scaled.
    scale = getattr(call.effects, "wait_scale", 1) or 1
    if scale != 1 and not (params.get("until") or params.get("time")):
        when = call.now + (when - call.now) * float(scale)
    resume = when.isoformat()
    return NodeResult({"resume_at": resume}, input=params, resume_at=when)


def _check_wait(params: dict) -> list[tuple[str, str]]:
    forms = [name for name in ("until", "time") if params.get(name)]
    if any(params.get(unit) for unit in _UNITS):
        forms.append("duration")
    problems = []
    if len(forms) > 1:
        problems.append(("", f"use one form of wait, not {' + '.join(forms)}"))
    until = params.get("until")
    if isinstance(until, str) and "{" not in until:
        try:
            datetime.fromisoformat(until.strip())
        except ValueError:
            problems.append(("until", f"not an ISO datetime: {until!r}"))
    hhmm = params.get("time")
    if isinstance(hhmm, str) and not _TIME_RE.match(hhmm):
        problems.append(("time", f"not a time of day HH:MM: {hhmm!r}"))
    tz = params.get("timezone")
    if tz is not None and not valid_timezone(tz):
        problems.append(("timezone", f"unknown timezone {tz!r}"))
    return problems


def _unit(name: str) -> dict:
    return {"type": "number", "minimum": 0, "maximum": 10_000_000, "title": name.capitalize()}


_WAIT_SCHEMA = {
    "type": "object",
    "title": "Wait",
    "description": "A duration, an 'until' datetime, or a 'time' of day (optionally on weekdays).",
    "properties": {
        **{unit: _unit(unit) for unit in _UNITS},
        "until": {
            "type": "string",
            "title": "Until",
            "maxLength": 200,
            "description": "ISO datetime, e.g. 2025-01-01T09:00 (a template is allowed).",
        },
        "time": {
            "type": "string",
            "title": "Time of day",
            "pattern": _TIME_RE.pattern,
            "description": "HH:MM in the workflow timezone.",
        },
        "weekdays": {
            "type": "array",
            "title": "Weekdays",
            "uniqueItems": True,
            "minItems": 1,
            "items": {"enum": list(WEEKDAYS)},
        },
        "timezone": {
            "type": "string",
            "title": "Timezone",
            "description": "IANA name; default: the workflow's timezone.",
        },
    },
    "additionalProperties": False,
}

NODE_TYPES = [
    NodeType(
        type="flow.wait",
        category="flow",
        title="Wait",
        description="Pause this branch for a while, until a date, or until a time of day.",
        icon="hourglass",
        params_schema=_WAIT_SCHEMA,
        run=_run_wait,
        template_fields=("until",),
        check=_check_wait,
        breaks_cycles=True,
    ),
]
