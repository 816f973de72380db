"""Flask-Admin views for what workflows sent and changed: outbound messages, notes, tag changes,
and the steps table on an execution's detail page (instead of one JSON blob).
"""

from __future__ import annotations

__all__ = ["steps_table", "OutboundMessageView", "NoteView", "TagChangeView", "add_views"]

import json

from markupsafe import Markup, escape

from backend.admin.base import ReadOnlyView
from backend.models import Note, OutboundMessage, TagChange

_STEP_COLUMNS = (
    "seq",
    "node_id",
    "node_type",
    "status",
    "port",
    "attempt",
    "duration_ms",
    "started_at",
    "input",
    "output",
    "error",
)


def _cell(value) -> Markup:
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
        short = text if len(text) <= 300 else text[:300] + "…"
        return Markup('<code dir="auto">{}</code>').format(short)
    return escape("" if value is None else value)


def steps_table(view, context, model, name) -> Markup:
    """An execution's step records as an HTML table (one row per step)."""
    head = "".join(f"<th>{c}</th>" for c in _STEP_COLUMNS)
    rows = "".join(
        Markup('<tr data-step-seq="{}">').format(step.seq)
        + Markup("").join(
            Markup("<td>{}</td>").format(_cell(getattr(step, c))) for c in _STEP_COLUMNS
        )
        + Markup("</tr>")
        for step in model.steps
    )
    return Markup(
        f'<table class="table table-sm table-bordered steps"><thead><tr>{head}</tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )


class _HistoryView(ReadOnlyView):
    # The models' ``execution`` relationship only orders the unit of work's INSERTs (see
    # models.Note); the details page keeps showing what it showed before it.
    column_details_exclude_list = ("execution",)


class OutboundMessageView(_HistoryView):
    column_list = (
        "id",
        "created_at",
        "kind",
        "channel",
        "status",
        "to",
        "subject",
        "text",
        "contact_id",
        "execution_id",
        "node_id",
    )
    column_filters = ("kind", "channel", "status", "contact_id", "execution_id")
    column_searchable_list = ("to", "subject", "text")
    column_default_sort = ("id", True)


class NoteView(_HistoryView):
    column_list = ("id", "created_at", "text", "contact_id", "conversation_id", "execution_id")
    column_filters = ("contact_id", "conversation_id", "execution_id")
    column_searchable_list = ("text",)
    column_default_sort = ("id", True)


class TagChangeView(_HistoryView):
    column_list = (
        "id",
        "created_at",
        "contact_id",
        "tag",
        "action",
        "source",
        "execution_id",
        "user_id",
    )
    column_filters = ("tag", "action", "source", "contact_id", "execution_id")
    column_default_sort = ("id", True)


def add_views(admin, session) -> None:
    """Register the history views on ``admin``."""
    admin.add_view(
        OutboundMessageView(
            OutboundMessage, session, name="Outbound messages", endpoint="outboundmessage"
        )
    )
    admin.add_view(NoteView(Note, session, name="Notes", endpoint="note"))
    admin.add_view(
        TagChangeView(TagChange, session, name="Tag changes", endpoint="tagchange", category="Data")
    )
