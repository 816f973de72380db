"""Users, API tokens (stored hashed) and credentials (encrypted at rest)."""

from __future__ import annotations

import hashlib
import json
import secrets

from cryptography.fernet import Fernet
from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow

ROLES = ("viewer", "editor", "admin")
TOKEN_PREFIX = "fm_"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), unique=True, nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(16), nullable=False, default="viewer")
    is_active_user = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at = db.Column(UTCDateTime)

    @property
    def is_active(self) -> bool:  # flask-login
        return self.is_active_user

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, role: str) -> bool:
        """True when this user's role is ``role`` or stronger (viewer < editor < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(
        db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name = db.Column(db.String(100), nullable=False, default="")
    token_hash = db.Column(db.String(64), unique=True, nullable=False)
    prefix = db.Column(
        db.String(12), nullable=False
    )  # shown in lists so users can tell tokens apart
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    last_used_at = db.Column(UTCDateTime)
    revoked_at = db.Column(UTCDateTime)

    user = db.relationship("User")

    @classmethod
    def issue(cls, user: User, name: str = "") -> tuple[ApiToken, str]:
        """Create a token for ``user``; return the row and the plain token (shown once)."""
        plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls(user=user, name=name, token_hash=hash_token(plain), prefix=plain[:10])
        db.session.add(row)
        return row, plain


class Credential(db.Model):
    """A named secret (bot token, SMTP password, webhook headers), Fernet-encrypted at rest."""

    __tablename__ = "credentials"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), unique=True, nullable=False)
    kind = db.Column(db.String(32), nullable=False)  # telegram | instagram | smtp | http_headers
    encrypted = db.Column(db.LargeBinary, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    @staticmethod
    def _fernet() -> Fernet:
        return Fernet(current_app.config["CREDENTIALS_KEY"].encode())

    @property
    def secret(self) -> dict:
        return json.loads(self._fernet().decrypt(self.encrypted))

    @secret.setter
    def secret(self, value: dict) -> None:
        self.encrypted = self._fernet().encrypt(json.dumps(value).encode())
