"""Request parsing: JSON bodies and query strings checked against JSON Schemas.

Every problem becomes an :class:`~backend.api.errors.ApiError` that names the field:
malformed JSON, ``NaN``, NUL characters, wrong types, unknown fields, too deep nesting.

>>> schema = {"type": "object", "properties": {"name": {"type": "string"}},
...           "additionalProperties": False}
>>> schema_errors(schema, {"name": 1, "x": 2})
[{'field': 'x', 'message': 'unknown field'}, {'field': 'name', 'message': "1 is not of type 'string'"}]
"""

from __future__ import annotations

__all__ = ["parse_json_body", "parse_query", "schema_errors", "check_text", "PAGE_QUERY"]

import json
from datetime import UTC, datetime

import jsonschema_rs
from flask import request
from jsonschema import Draft202012Validator

from backend.api.components import COMPONENTS
from backend.api.errors import ApiError

MAX_DEPTH = 64
PAGE_QUERY = {
    "page": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1},
    "page_size": {"type": "integer", "minimum": 1, "maximum": 200, "default": 20},
}
_validators: dict[int, tuple[dict, Draft202012Validator, object]] = {}


def _validators_of(schema: dict) -> tuple[Draft202012Validator, object]:
    """jsonschema's and jsonschema-rs's validators of a schema object (the schemas are
    module-level constants); the second is ``None`` if jsonschema-rs cannot compile it."""
    cached = _validators.get(id(schema))
    if cached is None or cached[0] is not schema:
        # "#/components/schemas/<name>" refs resolve against the shared components.
        rooted = {**schema, "components": {"schemas": COMPONENTS}}
        try:
            fast = jsonschema_rs.Draft202012Validator(rooted, validate_formats=False)
        except Exception:  # noqa: BLE001 - a schema it cannot compile: jsonschema alone
            fast = None
        cached = _validators[id(schema)] = (schema, Draft202012Validator(rooted), fast)
    return cached[1], cached[2]


def _surely_valid(fast, data) -> bool:
    """jsonschema-rs finds ``data`` valid (about 100x faster than jsonschema for a request
    body). It is never more lenient on these schemas (where they differ - ``$`` before a
    trailing newline, Unicode digits for ``\\d`` - it is stricter), so "no" only means "ask
    jsonschema", whose messages the error bodies are made of."""
    try:
        return fast is not None and fast.is_valid(data)
    except Exception:  # noqa: BLE001 - e.g. a lone surrogate it cannot convert: ask jsonschema
        return False


def _path(parts) -> str:
    return ".".join(str(p) for p in parts)


def _join(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


def _error_items(error) -> list[dict]:
    base = _path(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set((error.schema or {}).get("properties", {}))
        extra = [k for k in error.instance if k not in known]
        return [{"field": _join(base, str(k)), "message": "unknown field"} for k in extra]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [k for k in error.validator_value if k not in error.instance]
        return [{"field": _join(base, k), "message": "this field is required"} for k in missing]
    return [{"field": base or None, "message": error.message[:300]}]


def schema_errors(schema: dict, data) -> list[dict]:
    """Every problem of ``data`` against ``schema`` as ``{"field", "message"}`` items."""
    validator, fast = _validators_of(schema)
    if _surely_valid(fast, data):
        return []
    items: list[dict] = []
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    for error in errors:
        for item in _error_items(error):
            if item not in items:
                items.append(item)
    return items


def check_text(value, path: str = "", depth: int = 0) -> None:
    """Reject NUL characters (PostgreSQL cannot store them) and absurd nesting, anywhere."""
    if depth > MAX_DEPTH:
        raise ApiError(400, "JSON nested too deeply", field=path or None)
    if isinstance(value, str):
        if "\x00" in value:
            raise ApiError(400, "NUL characters are not allowed", field=path or None)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, path, depth + 1)
            check_text(item, _join(path, str(key)), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_text(item, _join(path, str(index)), depth + 1)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def load_json(raw: bytes):
    """Parse request bytes strictly (UTF-8, no NaN/Infinity); ApiError 400 when malformed."""
    try:
        text = raw.decode("utf-8")
        return json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ApiError(400, "request body is not UTF-8") from None
    except RecursionError:
        raise ApiError(400, "JSON nested too deeply") from None
    except ValueError as exc:
        raise ApiError(400, f"malformed JSON: {str(exc)[:200]}") from None


def parse_json_body(schema: dict, *, required: bool = True):
    """The request's JSON body, validated against ``schema`` (415 for a non-JSON body)."""
    raw = request.get_data(cache=True)  # 413 (RequestEntityTooLarge) past MAX_CONTENT_LENGTH
    if not raw.strip():
        if required:
            raise ApiError(400, "a JSON request body is required")
        return {}
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(415, "send the body as application/json", field="Content-Type")
    data = load_json(raw)
    check_text(data)
    errors = schema_errors(schema, data)
    if errors:
        first = errors[0]
        raise ApiError(
            400,
            f"{first['field'] or 'body'}: {first['message']}",
            field=first["field"],
            errors=errors,
        )
    return data


def _coerce(name: str, spec: dict, raw: str):
    kind = spec.get("type")
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
        if kind == "boolean":
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1")
        if spec.get("format") == "date-time":
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            return value if value.tzinfo else value.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise ApiError(
            400, f"{name}: not a valid {spec.get('format') or kind}", field=name
        ) from None
    return raw


def parse_query(properties: dict, args) -> dict:
    """Declared query parameters, typed and validated; defaults filled in, others ignored."""
    out = {}
    for name, spec in properties.items():
        raw = args.get(name)
        if raw is None or raw == "":
            if "default" in spec:
                out[name] = spec["default"]
            continue
        check_text(raw, name)
        value = _coerce(name, spec, raw)
        checked = {k: v for k, v in spec.items() if k not in ("format", "description")}
        if not isinstance(value, datetime):
            problem = next(Draft202012Validator(checked).iter_errors(value), None)
            if problem is not None:
                raise ApiError(400, f"{name}: {problem.message[:200]}", field=name)
        out[name] = value
    return out
