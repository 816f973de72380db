"""The web server's loaded app leaves the garbage collector's full passes (backend.server)."""

from __future__ import annotations

import gc

from backend.server import freeze_startup_heap


def _tracked(obj) -> bool:
    """Whether a collection pass walks ``obj`` (frozen objects are in no generation)."""
    return any(o is obj for o in gc.get_objects())


def test_what_is_alive_at_start_is_frozen_and_what_comes_later_is_not():
    loaded = [[]]  # alive when the server starts, like the app's objects
    assert _tracked(loaded)
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 0 and not _tracked(loaded)
        later = [[]]  # made while serving: collected as usual
        assert _tracked(later)
    finally:
        gc.unfreeze()
