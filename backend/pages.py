"""Browser pages: login / logout (session + CSRF) and the single-page editor app behind the login.

Every app URL (``/workflows``, ``/workflows/<id>``, a run, a contact, a contact's explain view,
the wake-ups) renders the same page,
``templates/app.html``, which loads the Vite bundle named by its manifest (backend/bundle.py); the
app's own router picks the view. ``/`` leads to ``/workflows``.
"""

from __future__ import annotations

__all__ = ["bp", "init_app", "LoginForm"]

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from backend.bundle import entry_assets
from backend.extensions import db
from backend.models import StepExecution, User, Workflow, WorkflowExecution, utcnow
from graph_engine import to_svg

bp = Blueprint("pages", __name__)
API_BASE = "/api/v1/workflow/api"


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me signed in")


def init_app(app) -> None:
    app.register_blueprint(bp)


@bp.app_context_processor
def outbound_mode() -> dict:
    """Every page knows the outbound mode (the top bar shows it)."""
    return {"outbound_mode": current_app.config.get("OUTBOUND_MODE", "capture")}


def _safe_next(target: str | None) -> str:
    """Only same-site relative redirects after login."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("pages.workflows")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password."""
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("pages.workflows"))
    error = None
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if user is not None and user.is_active and user.check_password(form.password.data):
            user.last_login_at = utcnow()
            db.session.commit()
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        error = "Wrong email or password."
    elif request.method == "POST":
        error = "Please fill in both fields."
    status = 401 if error else 200
    return render_template("login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    """Sign out (POST with the CSRF token)."""
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("pages.login"))


@bp.get("/")
@login_required
def home():
    """The home page leads to the workflow list."""
    return redirect(url_for("pages.workflows"))


def _app_page():
    return render_template("app.html", assets=entry_assets(), api_base=API_BASE)


@bp.get("/workflows")
@login_required
def workflows():
    """The workflow list (the editor app)."""
    return _app_page()


@bp.get("/workflows/<int:workflow_id>")
@login_required
def editor(workflow_id: int):
    """The editor for one workflow (the app loads it through the API)."""
    return _app_page()


@bp.get("/workflows/<int:workflow_id>/runs/<int:execution_id>")
@login_required
def run_view(workflow_id: int, execution_id: int):
    """One run of a workflow on the canvas (the app's run view)."""
    return _app_page()


@bp.get("/contacts")
@login_required
def contacts():
    """The contact list (the app's contacts view)."""
    return _app_page()


@bp.get("/contacts/<int:contact_id>")
@login_required
def contact_view(contact_id: int):
    """One contact's timeline (the app's contact view)."""
    return _app_page()


@bp.get("/contacts/<int:contact_id>/explain")
@login_required
def contact_explain(contact_id: int):
    """Why did / didn't the contact's events run each workflow (the app's explain view)."""
    return _app_page()


@bp.get("/wake-ups")
@login_required
def wakeups():
    """Pending waits by workflow and hour, overdue ones flagged (the app's wake-ups view)."""
    return _app_page()


@bp.get("/session.json")
@login_required
def session_info():
    """The signed-in user and the session's CSRF token (for the Vite dev server's pages)."""
    return {"csrf_token": generate_csrf(), "email": current_user.email, "role": current_user.role}


@bp.get("/workflows/<int:workflow_id>/picture.svg")
@login_required
def workflow_picture(workflow_id: int):
    """The workflow drawn as SVG, each node outlined by its status in the latest run."""

    workflow = db.session.get(Workflow, workflow_id) or abort(404)
    latest = db.session.scalar(
        select(WorkflowExecution.id)
        .filter_by(workflow_id=workflow_id)
        .order_by(WorkflowExecution.id.desc())
        .limit(1)
    )
    steps = (
        db.session.execute(
            select(StepExecution.node_id, StepExecution.status)
            .filter_by(execution_id=latest)
            .order_by(StepExecution.seq)
        ).all()
        if latest
        else []
    )
    svg = to_svg(workflow.graph, statuses=dict(steps))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
