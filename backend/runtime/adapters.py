"""Contact adapters: ``user.*`` from the platform's own API instead of the built-in store.

The built-in contact store stays the default. A platform that already owns its customers sets
``CONTACT_LOOKUP_URL`` (``{external_id}`` is replaced, URL-quoted), optionally with
``CONTACT_LOOKUP_AUTH`` (the ``Authorization`` header) and ``CONTACT_LOOKUP_TIMEOUT`` seconds.
When an event is processed, the URL is fetched once and its JSON object (``first_name``,
``last_name``, ``email``, ``phone``, ``channel``, ``tags``, ``fields``) overlays the stored
contact in the run's context: trigger filters, conditions and templates see it, and it is kept
in the run state -- cached for the run, not fetched again on every step or resume.

A lookup that fails (timeout, network error, non-200, not a JSON object) starts the run anyway
with ``user.lookup_error`` set, and the run's trigger step fails with that message -- a clear
step error instead of a run on half a contact. Actions that change the contact (tags, fields)
still write the built-in store.
"""

from __future__ import annotations

__all__ = ["lookup_user", "enabled"]

from urllib.parse import quote

from flask import current_app

from backend.channels.http import safe_request
from graph_engine import EffectError

_ATTRS = ("first_name", "last_name", "email", "phone", "channel")


def enabled() -> bool:
    """Whether ``user.*`` comes from the lookup URL."""
    return bool(current_app.config.get("CONTACT_LOOKUP_URL"))


def _overlay(base: dict, body: dict) -> dict:
    user = {**base, **{k: str(body[k]) for k in _ATTRS if body.get(k) is not None}}
    if isinstance(body.get("tags"), list):
        user["tags"] = [str(tag) for tag in body["tags"]]
    if isinstance(body.get("fields"), dict):
        user["fields"] = {**(base.get("fields") or {}), **body["fields"]}
    user["source"] = "lookup"
    return user


def lookup_user(external_id: str | None, base: dict) -> dict:
    """``base`` (the stored contact's context) overlaid with the lookup's answer."""
    config = current_app.config
    if not enabled() or not external_id:
        return base
    url = str(config["CONTACT_LOOKUP_URL"]).replace("{external_id}", quote(external_id, safe=""))
    headers = (
        {"Authorization": config["CONTACT_LOOKUP_AUTH"]}
        if config.get("CONTACT_LOOKUP_AUTH")
        else {}
    )
    try:
        answer = safe_request(
            "GET",
            url,
            headers=headers,
            timeout=float(config.get("CONTACT_LOOKUP_TIMEOUT") or 5),
            allow=config.get("HTTP_ALLOW_PRIVATE", ""),
        )
    except EffectError as exc:
        return {**base, "lookup_error": f"contact lookup failed: {exc}"}
    if answer["status"] != 200 or not isinstance(answer["body"], dict):
        what = f"HTTP {answer['status']}" if answer["status"] != 200 else "not a JSON object"
        return {**base, "lookup_error": f"contact lookup answered {what}"}
    return _overlay(base, answer["body"])
