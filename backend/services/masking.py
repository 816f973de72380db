"""What a viewer sees of a graph: secret-looking values masked.

Graphs should hold no secrets (``{{ credentials.<name> }}`` references them), but older graphs
do: a header ``X-Shop-Key``, a ``?token=`` in a URL, ``password=...`` in a body. Editors and
admins see a graph as stored (they edit it); viewers see such values as ``***``, everywhere
the API returns a graph or its nodes' params. Template expressions (``{{ ... }}``) are not
secrets and stay visible.

>>> mask_secrets({"headers": {"X-Shop-Key": "k-123", "Accept": "json"}})
{'headers': {'X-Shop-Key': '***', 'Accept': 'json'}}
>>> mask_secrets({"url": "https://h/x?a=1&api_token=abc&sig=zz"})
{'url': 'https://h/x?a=1&api_token=***&sig=***'}
>>> mask_secrets({"body": "user=bo&password=hunter2", "auth": "{{ credentials.shop }}"})
{'body': 'user=bo&password=***', 'auth': '{{ credentials.shop }}'}
>>> mask_secrets("Authorization: Bearer abc.def")
'Authorization: ***'
"""

from __future__ import annotations

__all__ = ["mask_secrets", "visible"]

import re
from typing import Any

from backend.auth import current_caller
from backend.services.redaction import MASK, scrub_text

_NAME = (
    r"pass(?:word|wd)?|secret|token|auth\w*|api[_-]?key|\w*[_-]key|key|sig(?:nature)?"
    r"|cookie|credential|private[_-]?key|session"
)
_SECRET_NAME = re.compile(rf"^(?:x-)?(?:[\w-]*[_-])?(?:{_NAME})$", re.IGNORECASE)
_PAIR = re.compile(
    rf"(?P<name>\b[\w-]*(?:{_NAME}))(?P<sep>\s*[=:]\s*)(?P<value>(?:(?:bearer|basic|token)\s+)?[^&\s,;\"'}}]+)",
    re.IGNORECASE,
)
_TEMPLATE_ONLY = re.compile(r"^\s*(\{\{.*?\}\}\s*)+$", re.DOTALL)


def _mask_text(text: str) -> str:
    text = scrub_text(text)
    if "=" not in text and ":" not in text:
        return text

    def one(match: re.Match) -> str:
        if match.group("value").startswith("{{") or match.group("value") == MASK:
            return match.group(0)
        return f"{match.group('name')}{match.group('sep')}{MASK}"

    return _PAIR.sub(one, text)


def mask_secrets(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with secret-looking values masked (see the module doc)."""
    if _depth > 50:
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            secret = isinstance(key, str) and _SECRET_NAME.match(key)
            plain = isinstance(item, str | int | float) and item not in ("", None)
            if secret and plain and not _TEMPLATE_ONLY.match(str(item)):
                out[key] = MASK
            else:
                out[key] = mask_secrets(item, _depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [mask_secrets(v, _depth + 1) for v in value]
    return _mask_text(value) if isinstance(value, str) else value


def visible(value: Any) -> Any:
    """``value`` as the calling user may see it: as is for editors, masked for viewers."""
    user = current_caller()
    return value if user is not None and user.has_role("editor") else mask_secrets(value)
