"""The one error type of the server: a refusal the client can act on.

Services, the runtime and auth raise :class:`ServiceError` (or a subclass that names the kind of
refusal: ``IngestError``, ``RunControlError``...). It carries what the answer needs -- the HTTP
``status``, a ``detail`` sentence, the ``field`` or ``node_id`` at fault and per-item
``errors`` -- and knows nothing of Flask: the API turns it into a JSON response in one place
(:mod:`backend.api.errors`).

>>> ServiceError(404, "no such workflow").body()
{'detail': 'no such workflow', 'code': 'not_found'}
>>> ServiceError(400, "name is required", field="name").body()["field"]
'name'
"""

from __future__ import annotations

__all__ = ["ServiceError", "CODES"]

#: The ``code`` of an error body by HTTP status (when the error names none of its own).
CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "throttled",
    500: "server_error",
    503: "unavailable",
}


class ServiceError(Exception):
    """A refused request. Subclasses may set ``status`` and ``code`` as class defaults."""

    status: int = 400
    code: str = ""

    def __init__(
        self,
        status: int | None = None,
        detail: str = "",
        *,
        field: str | None = None,
        node_id: str | None = None,
        errors: list[dict] | None = None,
        code: str | None = None,
        headers: dict | None = None,
    ):
        super().__init__(detail)
        if status is not None:
            self.status = status
        self.detail = detail
        self.field = field
        self.node_id = node_id
        self.errors = errors
        self.code = code or type(self).code or CODES.get(self.status, "error")
        self.headers = headers or {}

    @property
    def message(self) -> str:
        return self.detail

    @property
    def status_code(self) -> int:
        return self.status

    def body(self) -> dict:
        """The JSON error body: ``{"detail", "code", "field"?, "node_id"?, "errors"?}``."""
        out = {"detail": self.detail, "code": self.code}
        if self.field is not None:
            out["field"] = self.field
        if self.node_id is not None:
            out["node_id"] = self.node_id
        if self.errors:
            out["errors"] = self.errors
        return out
