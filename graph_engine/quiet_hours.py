"""Quiet hours: messages due inside a nightly window wait until it opens.

``settings.quiet_hours = {"start": "21:00", "end": "08:00"}`` (optionally ``node_types``, default
the message-sending types) holds back those nodes while the contact's local time is inside the
window. The contact's zone is the custom field ``user.fields.timezone`` (an IANA name); the
workflow's ``settings.timezone`` is the fallback. A window may cross midnight.

>>> from datetime import datetime, UTC
>>> qh = {"start": "21:00", "end": "08:00"}
>>> quiet_until(qh, {"fields": {"timezone": "Asia/Tehran"}}, "UTC",
...             datetime(2024, 1, 1, 20, 0, tzinfo=UTC)).isoformat()   # 23:30 in Tehran
'2024-01-02T04:30:00+00:00'
>>> quiet_until(qh, {}, "UTC", datetime(2024, 1, 1, 12, 0, tzinfo=UTC)) is None
True
"""

from __future__ import annotations

__all__ = ["QUIET_NODE_TYPES", "quiet_until"]

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from graph_engine.nodes.triggers import valid_timezone

QUIET_NODE_TYPES = ("action.send_message", "action.send_email", "action.send_sms")


def _zone(user: dict | None, fallback: str) -> ZoneInfo:
    name = ((user or {}).get("fields") or {}).get("timezone")
    return ZoneInfo(name if valid_timezone(name) else (fallback or "UTC"))


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_until(quiet: dict | None, user: dict | None, fallback_tz: str, now: datetime):
    """When the quiet window that ``now`` falls in opens (aware, UTC), or None outside it."""
    if not quiet:
        return None
    zone = _zone(user, fallback_tz)
    local = now.astimezone(zone)
    start, end = _clock(quiet["start"]), _clock(quiet["end"])
    moment = local.time()
    if start <= end:
        inside = start <= moment < end
        opens_day = local.date()
    else:  # crosses midnight: 21:00 -> 08:00
        inside = moment >= start or moment < end
        opens_day = local.date() + timedelta(days=1) if moment >= start else local.date()
    if not inside:
        return None
    opens = datetime.combine(opens_day, end, tzinfo=zone)
    return opens.astimezone(UTC)
