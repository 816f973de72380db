"""The admin's base views: admins only (others go to login or get a 403), CSRF-protected forms,
read-only model views."""

from __future__ import annotations

__all__ = ["AdminOnly", "HomeView", "AdminForm", "SecureModelView", "ReadOnlyView", "row_ids"]

from flask import abort, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from flask_wtf import FlaskForm


def _is_admin() -> bool:
    return current_user.is_authenticated and current_user.has_role("admin")


def row_ids(ids) -> list[int]:
    """Row ids from an action form (strings) as integers; PostgreSQL won't compare them."""
    return [int(i) for i in ids if str(i).isdigit()]


def _refuse():
    if not current_user.is_authenticated:
        return redirect(url_for("pages.login", next=request.full_path))
    abort(403)


class AdminOnly:
    """Mixin: only admins see the view; others are sent to login or refused (403)."""

    def is_accessible(self):
        return _is_admin()

    def inaccessible_callback(self, name, **kwargs):
        return _refuse()


class HomeView(AdminOnly, AdminIndexView):
    @expose("/")
    def index(self):
        return redirect(url_for("workflow.index_view"))


class AdminForm(FlaskForm):
    """Flask-WTF's CSRF-protected form that, like Flask-Admin's own form, remembers the row being
    edited: Flask-Admin's Unique validators compare against it (else every edit "already exists")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._obj = kwargs.get("obj")


class SecureModelView(AdminOnly, ModelView):
    form_base_class = AdminForm  # Flask-WTF CSRF tokens on every admin form
    page_size = 50
    can_view_details = True


class ReadOnlyView(SecureModelView):
    can_create = can_edit = can_delete = False
