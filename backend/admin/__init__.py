"""Flask-Admin at ``/admin/``, for admins only: workflows, runs, events, contacts, users, tokens.

Runs and event logs are read-only; workflows change status only through the workflow service
(the Activate / Pause actions validate the graph and refresh the trigger index); tokens can only
be listed and revoked; password hashes and token hashes are never shown.
"""

from __future__ import annotations

__all__ = ["init_app"]

from flask import flash
from flask_admin import Admin
from flask_admin.actions import action
from flask_admin.theme import Bootstrap4Theme
from markupsafe import Markup
from wtforms import PasswordField, SelectField

from backend.admin.base import HomeView, ReadOnlyView, SecureModelView, row_ids
from backend.admin.history import add_views, steps_table
from backend.extensions import db
from backend.models import (
    ROLES,
    ApiToken,
    Contact,
    EventLog,
    EventType,
    Tag,
    User,
    Workflow,
    WorkflowExecution,
    utcnow,
)
from backend.services import workflows as service
from graph_engine import ValidationError


class WorkflowView(SecureModelView):
    can_create = False  # workflows are drawn in the editor or created through the API
    column_list = ("id", "name", "status", "version", "updated_at", "activated_at")
    column_searchable_list = ("name",)
    column_filters = ("status",)
    form_columns = ("name", "description")
    column_details_exclude_list = ()

    def _transition(self, ids, verb: str) -> None:
        for wf in db.session.scalars(db.select(Workflow).where(Workflow.id.in_(row_ids(ids)))):
            try:
                getattr(service, verb)(wf)
                flash(f"{wf.name}: {wf.status}")
            except (ValidationError, service.WorkflowError) as exc:
                db.session.rollback()
                flash(f"{wf.name}: {exc}", "error")

    @action("activate", "Activate", "Validate and activate the selected workflows?")
    def action_activate(self, ids):
        self._transition(ids, "activate")

    @action("pause", "Pause", "Pause the selected workflows?")
    def action_pause(self, ids):
        self._transition(ids, "pause")


class ExecutionView(ReadOnlyView):
    column_list = (
        "id",
        "workflow",
        "status",
        "trigger_node_id",
        "step_count",
        "created_at",
        "finished_at",
        "duration_ms",
        "error",
    )
    column_filters = ("status", "workflow_id")
    column_default_sort = ("id", True)
    column_details_list = (
        "id",
        "workflow",
        "workflow_version",
        "status",
        "trigger_node_id",
        "event_id",
        "contact",
        "step_count",
        "created_at",
        "started_at",
        "finished_at",
        "duration_ms",
        "resume_at",
        "error",
        "steps",
    )
    column_formatters_detail = {"steps": steps_table}


def _explain_link(view, context, model, name):
    """The event's contact id, linked to the explain page of that event."""
    user = Markup.escape(model.user_id or "")
    if not model.contact_id:
        return user
    href = f"/contacts/{int(model.contact_id)}/explain?event={int(model.id)}"
    return Markup(f'{user} <a href="{href}" class="explain-link">why?</a>')


class EventLogView(ReadOnlyView):
    column_list = (
        "id",
        "event_type",
        "status",
        "source",
        "user_id",
        "received_at",
        "processed_at",
        "matched_workflows",
    )
    column_formatters = {"user_id": _explain_link}
    column_filters = ("event_type", "status")
    column_searchable_list = ("user_id", "idempotency_key")
    column_default_sort = ("id", True)


class ContactView(SecureModelView):
    column_list = (
        "id",
        "external_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "channel",
        "created_at",
    )
    column_searchable_list = ("external_id", "first_name", "last_name", "email", "phone")
    column_filters = ("channel",)
    form_columns = ("external_id", "first_name", "last_name", "email", "phone", "channel", "tags")


class UserView(SecureModelView):
    column_list = ("id", "email", "role", "is_active_user", "created_at", "last_login_at")
    column_exclude_list = column_details_exclude_list = ("password_hash",)
    form_columns = ("email", "role", "is_active_user", "new_password")
    form_overrides = {"role": SelectField}
    form_args = {"role": {"choices": [(r, r) for r in ROLES]}}
    form_extra_fields = {"new_password": PasswordField("New password (leave empty to keep)")}

    def on_model_change(self, form, model, is_created):
        if form.new_password.data:
            model.set_password(form.new_password.data)
        elif is_created:
            raise ValueError("a new user needs a password")


class TokenView(SecureModelView):
    can_create = can_edit = can_delete = False
    column_list = ("id", "name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    column_details_exclude_list = ("token_hash",)

    @action("revoke", "Revoke", "Revoke the selected tokens? They stop working at once.")
    def action_revoke(self, ids):
        for token in db.session.scalars(db.select(ApiToken).where(ApiToken.id.in_(row_ids(ids)))):
            token.revoked_at = token.revoked_at or utcnow()
        db.session.commit()
        flash(f"{len(ids)} token(s) revoked")


def init_app(app) -> None:
    """A fresh Admin per app (tests build several apps)."""
    admin = Admin(
        app,
        name="Flowmarket admin",
        index_view=HomeView(url="/admin"),
        theme=Bootstrap4Theme(swatch=app.config.get("FLASK_ADMIN_SWATCH", "default")),
    )
    session = db  # Flask-Admin 2: pass the Flask-SQLAlchemy object
    admin.add_view(WorkflowView(Workflow, session, endpoint="workflow"))
    admin.add_view(
        ExecutionView(WorkflowExecution, session, name="Executions", endpoint="execution")
    )
    admin.add_view(EventLogView(EventLog, session, name="Event logs", endpoint="eventlog"))

    add_views(admin, session)  # outbound messages, notes, tag changes
    admin.add_view(ContactView(Contact, session, endpoint="contact"))
    admin.add_view(SecureModelView(Tag, session, endpoint="tag", category="Data"))
    admin.add_view(
        SecureModelView(
            EventType, session, name="Event types", endpoint="eventtype", category="Data"
        )
    )
    admin.add_view(UserView(User, session, endpoint="user", category="Access"))
    admin.add_view(
        TokenView(ApiToken, session, name="API tokens", endpoint="apitoken", category="Access")
    )
