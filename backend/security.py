"""Request-level protections: rate limits, proxies, secure cookies.

Rate limits, each a fixed window in Redis shared by every web process:

- the API, ``API_RATE_LIMIT_PER_MINUTE`` per *resolved principal* (the user behind a valid
  token or session), or per client address when the caller is anonymous or presents a token
  that does not resolve: a fresh bogus bearer value per request lands in the same bucket
  (:mod:`backend.api_limit`, in the round trip that reads the token cache's access version);
- sign-in, ``LOGIN_RATE_LIMIT_PER_ACCOUNT`` failed attempts per e-mail address and
  ``LOGIN_RATE_LIMIT_PER_ADDRESS`` per client address (only failures count; once exceeded even
  the right password waits);
- webhook triggers, ``HOOK_RATE_LIMIT_PER_MINUTE`` per client address and webhook key.

Sign-in and webhook limits go through Flask-Limiter; without ``REDIS_URL`` (the embedded
default: one web process) their counters live in memory, and the API's in the embedded Redis.
A Redis outage fails open: limits are skipped, never the request.

The session cookie is ``SameSite=Lax``; it and the remember-me cookie are ``Secure`` whenever
the request came over HTTPS (``PROXY_COUNT`` trusted proxies may say so with
``X-Forwarded-Proto``) or ``SESSION_COOKIE_SECURE`` is set.
"""

from __future__ import annotations

__all__ = ["init_app", "client_address"]

from flask import current_app, make_response, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from werkzeug.middleware.proxy_fix import ProxyFix

from backend import api_limit
from backend.auth import client_address
from backend.pages import LoginForm
from backend.rate_storage import storage_uri
from backend.services.redaction import install_log_scrubber


def init_app(app) -> None:
    """Trust ``PROXY_COUNT`` proxies, make cookies secure over HTTPS, put the limits in place.

    Runs after the blueprints are registered: the limits attach to them by name.
    """
    install_log_scrubber()  # resolved credential values never reach a log line
    app.wsgi_app = _SecureCookies(app.wsgi_app)
    app.session_interface = _CheapEmptySessions()
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:  # outermost, so everything inside sees the client's scheme and address
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    url = app.config.get("REDIS_URL")
    # one Redis round trip per limited request (backend.rate_storage), not three
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(url) if url else "memory://")
    if url:
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 2}
        )
    limiter = Limiter(
        key_func=client_address, headers_enabled=True, key_prefix="fm", swallow_errors=True
    )  # Redis down: the request goes through unthrottled
    limiter.init_app(app)
    api_limit.init_app(
        app,
        [
            bp
            for bp in app.blueprints.values()
            if bp.import_name.startswith("backend.api.") and bp.name not in ("health", "hooks")
        ],
    )
    _hook_limit(limiter, app.blueprints["hooks"])
    _login_limits(limiter, app.blueprints["pages"])
    _limiter_hooks_only_on(app, limiter, ("hooks", "pages"))
    app.extensions["flowmarket_limiter"] = limiter


def _limiter_hooks_only_on(app, limiter, names) -> None:
    """Run Flask-Limiter's request hooks only for the blueprints it limits (sign-in, webhooks).

    Why: it hooks itself onto every request and, even where no limit applies, works out
    which limits would (the API's calls paid ~0.1 ms of CPU each for nothing). Its hooks move
    from the app's list (key ``None``) to the front of each blueprint's list.
    """
    for funcs in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        hooks = [f for f in funcs.get(None, []) if _bound_to(f, limiter)]
        funcs[None] = [f for f in funcs[None] if f not in hooks]
        for name in names:
            funcs[name] = [*hooks, *funcs.get(name, [])]


def _bound_to(func, limiter) -> bool:
    """Whether ``func`` is a method of ``limiter`` (or a partial of one applied to it)."""
    return getattr(func, "__self__", None) is limiter or limiter in getattr(func, "args", ())


class _SecureCookies:
    """WSGI middleware: over HTTPS every ``Set-Cookie`` gets ``Secure`` (the session cookie is
    written after every ``after_request`` hook, so a hook cannot do this)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start(status, headers, exc_info=None):
            headers = [_secured(name, value) for name, value in headers]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, secure_start)


class _CheapEmptySessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus their work for a request without a session (an
    API call with a token): Flask builds the cookie signer before it looks for the cookie,
    and works out every cookie setting before it sees there is nothing to save."""

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        if session or session.modified:
            super().save_session(app, session, response)
        elif session.accessed:  # as Flask: the answer depended on the (absent) cookie
            response.vary.add("Cookie")


def _secured(name: str, value: str) -> tuple[str, str]:
    if name.lower() == "set-cookie" and "; secure" not in value.lower():
        value += "; Secure"
    return name, value


def _per_minute(name: str):
    return lambda: f"{max(int(current_app.config.get(name) or 0), 1)} per minute"


def _off(name: str):
    return lambda: int(current_app.config.get(name) or 0) <= 0


# -- sign-in and webhooks -----------------------------------------------------------------


def _login_account() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


def _failed(response) -> bool:
    return response.status_code == 401


def _login_breach(_limit):
    error = "Too many sign-in attempts. Wait a few minutes and try again."
    page = render_template("login.html", form=LoginForm(), error=error)
    return make_response(page, 429)


def _not_login() -> bool:
    return request.endpoint != "pages.login"


def _login_limits(limiter, bp) -> None:
    """Throttle failed sign-ins per account and per client address."""
    for setting, key in (
        ("LOGIN_RATE_LIMIT_PER_ACCOUNT", _login_account),
        ("LOGIN_RATE_LIMIT_PER_ADDRESS", lambda: "login-addr:" + client_address()),
    ):
        limiter.limit(
            lambda s=setting: current_app.config[s],
            key_func=key,
            methods=["POST"],
            deduct_when=_failed,
            on_breach=_login_breach,
            exempt_when=_not_login,
        )(bp)


def _hook_key() -> str:
    return f"hook:{client_address()}:{(request.view_args or {}).get('webhook_key', '')[:64]}"


def _hook_limit(limiter, bp) -> None:
    """Put webhook-trigger calls under a per-address, per-key limit."""
    limiter.limit(
        _per_minute("HOOK_RATE_LIMIT_PER_MINUTE"),
        key_func=_hook_key,
        exempt_when=_off("HOOK_RATE_LIMIT_PER_MINUTE"),
        error_message="rate limit exceeded, retry later",
    )(bp)
