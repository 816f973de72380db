"""Browser tests: the shared Chromium (see browserkit.py) is stopped once, when the session ends."""

from __future__ import annotations


def pytest_sessionfinish(session, exitstatus):
    import browserkit

    browserkit.close_browser()
