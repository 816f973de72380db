"""Real servers on 127.0.0.1 standing in for the channels' providers in tests.

- :class:`BotApi`: speaks the Telegram Bot API's ``sendMessage`` shape (200 / 429 / 403 / 400);
- :class:`Relay`: the Instagram relay webhook, answering queued statuses;
- :class:`SmtpServer`: a real aiosmtpd server (plain, STARTTLS or implicit TLS; optional auth)
  keeping every message it received.
"""

from __future__ import annotations

import datetime
import http.server
import json
import ssl
import threading
from pathlib import Path


class _JsonServer:
    """A threaded HTTP server on a free port; ``answer(path, body, headers)`` -> (status, json,
    extra headers). Every request is kept in :attr:`requests`."""

    def __init__(self):
        self.requests: list[dict] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw or b"{}")
                entry = {"path": self.path, "body": body, "headers": dict(self.headers)}
                outer.requests.append(entry)
                status, reply, extra = outer.answer(self.path, body, entry["headers"])
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path, body, headers):  # pragma: no cover - overridden
        return 200, {}, {}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class BotApi(_JsonServer):
    """``POST /bot<token>/sendMessage``: chats ``blocked`` answer 403, ``missing`` 400; queued
    ``retry_after`` values answer 429 first. Other tokens than ``token`` get 401."""

    def __init__(self, token: str):
        self.token, self.retry_afters, self.next_id = token, [], 100
        super().__init__()

    @property
    def delivered(self) -> list[dict]:
        """The messages answered 200, in order."""
        return [r["body"] for r in self.requests if r.get("status") == 200]

    def answer(self, path, body, headers):
        self.requests[-1]["status"] = status = self._status(path, body)
        if status == 200:
            self.next_id += 1
            result = {
                "message_id": self.next_id,
                "chat": {"id": body.get("chat_id")},
                "text": body.get("text"),
            }
            return 200, {"ok": True, "result": result}, {}
        if status == 429:
            after = self.retry_afters.pop(0)
            return (
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "parameters": {"retry_after": after},
                    "description": f"Too Many Requests: retry after {after}",
                },
                {},
            )
        description = {
            401: "Unauthorized",
            403: "Forbidden: bot was blocked by the user",
            400: "Bad Request: chat not found",
        }[status]
        return status, {"ok": False, "error_code": status, "description": description}, {}

    def _status(self, path, body) -> int:
        if path != f"/bot{self.token}/sendMessage":
            return 401
        if self.retry_afters:
            return 429
        return {"blocked": 403, "missing": 400}.get(str(body.get("chat_id")), 200)


class Relay(_JsonServer):
    """The Instagram relay: answers the queued statuses in order, then 200 with an id."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        super().__init__()

    def answer(self, path, body, headers):
        status = self.statuses.pop(0) if self.statuses else 200
        extra = {"Retry-After": "2"} if status == 429 else {}
        self.requests[-1]["status"] = status
        return status, {"id": f"ig-{len(self.requests)}", "ok": status == 200}, extra


def self_signed(tmp: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 / localhost and its key, as PEM files: (cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


class SmtpServer:
    """A real aiosmtpd server on a free port; ``messages`` are the parsed e-mails received.

    ``security``: ``plain`` | ``starttls`` | ``tls``; ``login``: (user, password) to require
    AUTH; ``reject``: recipients answered 550."""

    def __init__(self, tmp: Path, *, security="plain", login=None, reject=()):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult
        from support import free_port

        self.messages, self.logins, self.port = [], [], free_port()
        self.cert = None
        outer, rejected = self, set(reject)

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
                if address in rejected:
                    return "550 5.1.1 mailbox unavailable"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                import email
                from email import policy

                outer.messages.append(
                    email.message_from_bytes(envelope.content, policy=policy.default)
                )
                return "250 Message accepted"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                login is not None
                and (auth_data.login.decode(), auth_data.password.decode()) == login
            )
            outer.logins.append(ok)
            return AuthResult(success=ok, handled=False)

        kwargs = {}
        if security != "plain":
            self.cert, key = self_signed(tmp)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, key)
            kwargs = (
                {"tls_context": context} if security == "starttls" else {"ssl_context": context}
            )
            if security == "starttls":
                kwargs["require_starttls"] = True
        if login is not None:
            kwargs.update(
                authenticator=authenticator,
                auth_require_tls=security == "starttls",
                auth_exclude_mechanism=["CRAM-MD5"],
            )
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def close(self):
        self.controller.stop()
