"""The editor bundle built by Vite: read static/dist/.vite/manifest.json and name the entry's files.

``entry_assets()`` gives the page template the hashed script, its stylesheets and the chunks to
preload; when the bundle is not built (``npm run build`` never ran) it returns None and the page
says how to build it. The manifest is re-read when its modification time changes, so a rebuild
is picked up without restarting the server.
"""

from __future__ import annotations

__all__ = ["entry_assets", "ENTRY"]

import json
from pathlib import Path

from flask import current_app

ENTRY = "index.html"
_cache: dict[str, tuple[float, dict]] = {}


def _manifest(path: Path) -> dict | None:
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    cached = _cache.get(str(path))
    if cached is None or cached[0] != mtime:
        cached = (mtime, json.loads(path.read_text(encoding="utf-8")))
        _cache[str(path)] = cached
    return cached[1]


def entry_assets() -> dict | None:
    """{"script", "styles", "preload"} as URLs under /static/dist/, or None when not built."""
    dist = Path(current_app.static_folder) / "dist"
    manifest = _manifest(dist / ".vite" / "manifest.json")
    if not manifest or ENTRY not in manifest:
        return None
    entry = manifest[ENTRY]
    url = "/static/dist/{}".format
    preload = [manifest[name]["file"] for name in entry.get("imports", []) if name in manifest]
    return {
        "script": url(entry["file"]),
        "styles": [url(css) for css in entry.get("css", [])],
        "preload": [url(f) for f in preload],
    }
