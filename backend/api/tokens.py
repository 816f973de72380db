"""``/tokens/``: API tokens (admins). The plain token is shown once, at creation."""

from __future__ import annotations

__all__ = ["bp", "token_json"]

from flask import Blueprint, jsonify
from sqlalchemy import select

from backend.api.common import ID, STR, commit, get_or_404, paginate
from backend.api.errors import ApiError
from backend.api.spec import component, operation
from backend.auth import current_principal
from backend.extensions import db
from backend.models import ApiToken, User, iso, utcnow

bp = Blueprint("tokens", __name__)

_TIME = {"type": ["string", "null"]}
TOKEN_REF = component(
    "ApiToken",
    {
        "type": "object",
        "required": ["id", "name", "prefix", "user_id"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "prefix": {"type": "string", "description": "first characters, to tell tokens apart"},
            "user_id": {"type": "integer"},
            "user_email": {"type": "string"},
            "created_at": {"type": "string"},
            "last_used_at": _TIME,
            "revoked_at": _TIME,
            "token": {"type": "string", "description": "only in the creation response"},
        },
    },
)
CREATE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"name": STR(100), "user_id": {**ID, "description": "default: you"}},
}
LIST_QUERY = {"user": ID, "include_revoked": {"type": "boolean", "default": False}}


def token_json(t: ApiToken) -> dict:
    return {
        "id": t.id,
        "name": t.name,
        "prefix": t.prefix,
        "user_id": t.user_id,
        "user_email": t.user.email,
        "created_at": iso(t.created_at),
        "last_used_at": iso(t.last_used_at),
        "revoked_at": iso(t.revoked_at),
    }


@operation(bp, "/tokens/", role="admin", paginated=True, query=LIST_QUERY, response=TOKEN_REF)
def list_tokens(query):
    """List tokens (by prefix; the secret is never shown again)."""
    stmt = select(ApiToken).order_by(ApiToken.id)
    if query.get("user"):
        stmt = stmt.where(ApiToken.user_id == query["user"])
    if not query["include_revoked"]:
        stmt = stmt.where(ApiToken.revoked_at.is_(None))
    return jsonify(paginate(stmt, query, token_json))


@operation(
    bp,
    "/tokens/",
    "POST",
    role="admin",
    body=CREATE,
    body_required=False,
    response=TOKEN_REF,
    status=201,
    errors=(400,),
)
def create_token(body):
    """Issue a token for yourself or another user; the response holds it once."""
    user = current_principal()
    if body.get("user_id") is not None:
        user = db.session.get(User, body["user_id"])
        if user is None:
            raise ApiError(400, f"user {body['user_id']} does not exist", field="user_id")
    row, plain = ApiToken.issue(user, body.get("name", ""))
    commit()
    return jsonify({**token_json(row), "token": plain}), 201


@operation(bp, "/tokens/<id:token_id>/", "DELETE", role="admin", status=204, errors=(404,))
def revoke_token(token_id):
    """Revoke a token (it stops working at once)."""
    row = get_or_404(ApiToken, token_id, "token")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    commit()
    return "", 204
