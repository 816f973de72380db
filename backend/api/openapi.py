"""The OpenAPI 3.1 document (``openapi.json``) and a self-contained docs page (``docs/``).

Both are built from the operation registry (:mod:`backend.api.spec`) and the engine's node
registry, so the document can't drift from the routes: each node type's params schema becomes
``#/components/schemas/NodeParams.<type>``.
"""

from __future__ import annotations

__all__ = ["bp", "build_document"]

import copy
import json
import re

from flask import Blueprint, jsonify, render_template, request

from backend.api.common import page_schema
from backend.api.errors import CODES
from backend.api.hooks import OPENAPI_PATH as HOOK_PATH
from backend.api.spec import COMPONENTS, OPERATIONS, Operation
from graph_engine import default_registry

bp = Blueprint("openapi", __name__)

_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_ERROR_TEXT = {
    400: "Bad input (the body names the field)",
    401: "No or invalid credentials",
    403: "Insufficient role or failed CSRF check",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Body is not JSON",
    422: "Valid input the server cannot process",
    429: "Rate limited (see Retry-After)",
}


def _path(rule: str, prefix: str) -> tuple[str, list[dict]]:
    params = []
    for converter, name in _PARAM.findall(rule):
        schema = (
            {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
            if converter == "id"
            else {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
        )
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return prefix + _PARAM.sub(r"{\2}", rule), params


def _ref(response) -> dict | None:
    if isinstance(response, str):
        return {"$ref": f"#/components/schemas/{response}"}
    return response


def _responses(op: Operation, has_path_params: bool) -> dict:
    out: dict = {}
    if op.status == 204:
        out["204"] = {"description": "Done, no content"}
    else:
        schema = _ref(op.response) or {"type": "object"}
        if op.paginated:
            schema = page_schema(schema)
        out[str(op.status)] = {
            "description": "OK",
            "content": {"application/json": {"schema": schema}},
        }
    codes = set(op.errors)
    if op.body is not None:
        codes |= {400, 413, 415}
    if op.query:
        codes.add(400)
    if op.role is not None:
        codes |= {401, 403, 429}
    if has_path_params:
        codes.add(404)
    err = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for code in sorted(codes):
        out[str(code)] = {"description": _ERROR_TEXT.get(code, CODES.get(code, "")), "content": err}
    return out


def _operation(op: Operation, path_params: list[dict]) -> dict:
    params = list(path_params)
    for name, schema in (op.query or {}).items():
        params.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {k: v for k, v in schema.items() if k != "description"},
                "description": schema.get("description", ""),
            }
        )
    out = {
        "operationId": f"{op.blueprint}.{op.name}",
        "summary": op.summary,
        "tags": op.tags,
        "parameters": params,
        "responses": _responses(op, bool(path_params)),
        "x-role": op.role,
    }
    if op.description:
        out["description"] = op.description
    if op.role is None:
        out["security"] = []
    if op.body is not None:
        out["requestBody"] = {
            "required": op.body_required,
            "content": {"application/json": {"schema": op.body}},
        }
    return out


def _rewrite(value, rename: dict):
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref[len("#/$defs/") :]
            value = {**value, "$ref": f"#/components/schemas/{rename.get(name, name)}"}
        return {k: _rewrite(v, rename) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, rename) for v in value]
    return value


def _node_components() -> dict:
    """Each node type's params schema, with its ``$defs`` hoisted into shared components."""

    comps: dict = {}
    for node_type in default_registry.all():
        schema = {
            k: v
            for k, v in copy.deepcopy(node_type.params_schema).items()
            if k not in ("$schema", "$id")
        }
        defs = schema.pop("$defs", {})
        for naming in ("NodeDefs.{name}", "NodeDefs.{type}.{name}"):
            rename = {n: naming.format(name=n, type=node_type.type) for n in defs}
            moved = {rename[n]: _rewrite(d, rename) for n, d in defs.items()}
            if all(comps.get(k, v) == v for k, v in moved.items()):
                break
        comps.update(moved)
        comps[f"NodeParams.{node_type.type}"] = _rewrite(schema, rename)
    return comps


def build_document(prefix: str = "/api/v1/workflow/api") -> dict:
    """The whole OpenAPI 3.1 document."""
    paths: dict = {}
    for op in OPERATIONS:
        path, path_params = _path(op.rule, prefix)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, path_params)
    paths["/hooks/{webhook_key}"] = copy.deepcopy(HOOK_PATH)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Flowmarket workflow API",
            "version": "1.0.0",
            "description": "Visual marketing workflows: graphs, triggers, runs, contacts. "
            "Authenticate with `Authorization: Bearer <token>` "
            "(`flask --app backend create-api-token EMAIL`).",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": t} for t in sorted({t for op in OPERATIONS for t in op.tags})],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {**copy.deepcopy(COMPONENTS), **_node_components()},
        },
    }


_DOCUMENT: dict = {}


def _document() -> dict:
    if not _DOCUMENT:
        _DOCUMENT.update(build_document())
    return _DOCUMENT


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document (public)."""
    return jsonify(_document())


@bp.get("/docs/")
def docs():
    """A browsable, self-contained page of every operation, its parameters and schemas."""
    doc = _document()
    groups: dict[str, list] = {}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            groups.setdefault(op["tags"][0], []).append((method.upper(), path, op))
    return render_template(
        "api_docs.html",
        doc=doc,
        groups=sorted(groups.items()),
        as_json=_pretty,
        base=request.host_url.rstrip("/"),
    )


def _pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
