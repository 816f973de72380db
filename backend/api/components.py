"""Named JSON Schemas (``#/components/schemas/<name>``) shared by operations and the validator.

A registry of its own so that request validation (``validation``) and the operation table
(``spec``, which builds on validation) both read it without importing each other.
"""

from __future__ import annotations

__all__ = ["COMPONENTS", "component"]

COMPONENTS: dict[str, dict] = {}


def component(name: str, schema: dict) -> dict:
    """Register a named response/request schema; returns a ``$ref`` to it."""
    COMPONENTS[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}
