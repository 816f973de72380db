"""``/credentials/``: named secrets (bot tokens, SMTP passwords), admins only, never echoed."""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify
from sqlalchemy import select

from backend.api.common import STR, commit, get_or_404, paginate
from backend.api.spec import component, operation
from backend.extensions import db
from backend.models import Credential, iso

bp = Blueprint("credentials", __name__)

KINDS = ["telegram", "instagram", "smtp", "http_headers"]
CREDENTIAL_REF = component(
    "Credential",
    {
        "type": "object",
        "required": ["id", "name", "kind", "keys"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "kind": {"enum": KINDS},
            "keys": {
                "type": "array",
                "items": {"type": "string"},
                "description": "names of the stored secret's fields (values never shown)",
            },
            "created_at": {"type": "string"},
            "updated_at": {"type": "string"},
        },
    },
)
SECRET = {
    "type": "object",
    "maxProperties": 50,
    "propertyNames": {"maxLength": 100},
    "additionalProperties": {"type": ["string", "number", "boolean"], "maxLength": 10000},
}
CREATE = {
    "type": "object",
    "required": ["name", "kind", "secret"],
    "additionalProperties": False,
    "properties": {"name": STR(100, 1), "kind": {"enum": KINDS}, "secret": SECRET},
}
PATCH = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"name": STR(100, 1), "secret": SECRET},
}


def credential_json(c: Credential) -> dict:
    try:
        keys = sorted(c.secret)
    except Exception:  # encrypted with another key: still list it, without its keys
        keys = []
    return {
        "id": c.id,
        "name": c.name,
        "kind": c.kind,
        "keys": keys,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }


@operation(bp, "/credentials/", role="admin", paginated=True, response=CREDENTIAL_REF)
def list_credentials(query):
    """List credentials (names and kinds, never the secrets)."""
    stmt = select(Credential).order_by(Credential.name)
    return jsonify(paginate(stmt, query, credential_json))


@operation(
    bp,
    "/credentials/",
    "POST",
    role="admin",
    body=CREATE,
    response=CREDENTIAL_REF,
    status=201,
    errors=(409,),
)
def create_credential(body):
    """Store a secret, encrypted at rest."""
    row = Credential(name=body["name"], kind=body["kind"])
    row.secret = body["secret"]
    db.session.add(row)
    commit(f"credential {body['name']} already exists", field="name")
    return jsonify(credential_json(row)), 201


@operation(bp, "/credentials/<id:cred_id>/", role="admin", response=CREDENTIAL_REF, errors=(404,))
def get_credential(cred_id):
    """One credential (without its secret)."""
    return jsonify(credential_json(get_or_404(Credential, cred_id)))


@operation(
    bp,
    "/credentials/<id:cred_id>/",
    "PATCH",
    role="admin",
    body=PATCH,
    response=CREDENTIAL_REF,
    errors=(404, 409),
)
def update_credential(cred_id, body):
    """Rename a credential or replace its secret."""
    row = get_or_404(Credential, cred_id)
    if "name" in body:
        row.name = body["name"]
    if "secret" in body:
        row.secret = body["secret"]
    commit("another credential has this name", field="name")
    return jsonify(credential_json(row))


@operation(bp, "/credentials/<id:cred_id>/", "DELETE", role="admin", status=204, errors=(404,))
def delete_credential(cred_id):
    """Delete a credential."""
    db.session.delete(get_or_404(Credential, cred_id))
    commit()
    return "", 204
