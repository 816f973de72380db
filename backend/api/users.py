"""``/users/``: accounts and roles (admins only); ``/users/me/`` for everyone."""

from __future__ import annotations

__all__ = ["bp", "user_json"]

from flask import Blueprint, jsonify
from sqlalchemy import func, select

from backend.api.common import STR, commit, get_or_404, paginate
from backend.api.errors import ApiError
from backend.api.health import outbound_mode
from backend.api.spec import component, operation
from backend.auth import current_principal
from backend.extensions import db
from backend.models import ROLES, User, iso

bp = Blueprint("users", __name__)

USER_REF = component(
    "User",
    {
        "type": "object",
        "required": ["id", "email", "role", "is_active"],
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "role": {"enum": list(ROLES)},
            "is_active": {"type": "boolean"},
            "created_at": {"type": "string"},
            "last_login_at": {"type": ["string", "null"]},
        },
    },
)
EMAIL = {"type": "string", "maxLength": 254, "pattern": "^[^@\\s]+@[^@\\s]+$"}
PASSWORD = STR(200, 8)
CREATE = {
    "type": "object",
    "required": ["email", "password"],
    "additionalProperties": False,
    "properties": {
        "email": EMAIL,
        "password": PASSWORD,
        "role": {"enum": list(ROLES)},
        "is_active": {"type": "boolean"},
    },
}
PATCH = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "password": PASSWORD,
        "role": {"enum": list(ROLES)},
        "is_active": {"type": "boolean"},
    },
}


def user_json(u: User) -> dict:
    return {
        "id": u.id,
        "email": u.email,
        "role": u.role,
        "is_active": u.is_active_user,
        "created_at": iso(u.created_at),
        "last_login_at": iso(u.last_login_at),
    }


def _admins_left(excluding: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == "admin", User.is_active_user.is_(True), User.id != excluding.id)
    )


ME_REF = component(
    "Me",
    {
        "allOf": [
            USER_REF,
            {
                "type": "object",
                "required": ["outbound_mode"],
                "properties": {
                    "outbound_mode": {
                        "enum": ["capture", "live"],
                        "description": "capture: messages are recorded, not sent",
                    }
                },
            },
        ],
    },
)


@operation(bp, "/users/me/", response=ME_REF)
def me():
    """The calling user, and the outbound mode the UI shows as a badge."""
    return jsonify({**user_json(current_principal()), "outbound_mode": outbound_mode()})


@operation(bp, "/users/", role="admin", paginated=True, response=USER_REF)
def list_users(query):
    """List users."""
    return jsonify(paginate(select(User).order_by(User.id), query, user_json))


@operation(
    bp, "/users/", "POST", role="admin", body=CREATE, response=USER_REF, status=201, errors=(409,)
)
def create_user(body):
    """Create a user with a role (viewer by default)."""
    user = User(
        email=body["email"].strip().lower(),
        role=body.get("role", "viewer"),
        is_active_user=body.get("is_active", True),
    )
    user.set_password(body["password"])
    db.session.add(user)
    commit(f"a user with email {user.email} exists", field="email")
    return jsonify(user_json(user)), 201


@operation(bp, "/users/<id:user_id>/", role="admin", response=USER_REF, errors=(404,))
def get_user(user_id):
    """One user."""
    return jsonify(user_json(get_or_404(User, user_id)))


@operation(
    bp,
    "/users/<id:user_id>/",
    "PATCH",
    role="admin",
    body=PATCH,
    response=USER_REF,
    errors=(404, 409),
)
def update_user(user_id, body):
    """Change a user's role, password or active flag (the last admin stays an admin)."""
    user = get_or_404(User, user_id)
    demoted = body.get("role", "admin") != "admin" or body.get("is_active") is False
    if user.role == "admin" and demoted and not _admins_left(user):
        raise ApiError(409, "this is the last active admin", field="role")
    if "password" in body:
        user.set_password(body["password"])
    if "role" in body:
        user.role = body["role"]
    if "is_active" in body:
        user.is_active_user = body["is_active"]
    commit()
    return jsonify(user_json(user))


@operation(bp, "/users/<id:user_id>/", "DELETE", role="admin", status=204, errors=(404, 409))
def delete_user(user_id):
    """Delete a user and their tokens (never the last admin, never yourself)."""
    user = get_or_404(User, user_id)
    if user.id == current_principal().id:
        raise ApiError(409, "you cannot delete yourself", field="id")
    if user.role == "admin" and not _admins_left(user):
        raise ApiError(409, "this is the last active admin", field="id")
    db.session.delete(user)
    commit()
    return "", 204
