"""What can be known about an outbound URL without the network: scheme, credentials, and
literal addresses that are not public.

Used twice: when a graph is validated (:func:`url_problems` checks the literal part of a URL
that may contain templates) and at send time (:func:`address_problem` checks each address a
host name resolved to). IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``,
IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96`` translated, 6to4, Teredo) are judged by
the IPv4 address they carry; the legacy numeric forms ``127.1``, ``0x7f000001`` and
``2130706433`` are the IPv4 addresses the system resolver makes of them. ``allow`` relaxes the
check: ``loopback`` admits 127.0.0.0/8 and ::1 (the tests), ``all`` admits any address.

>>> address_problem("93.184.216.34")
>>> address_problem("::ffff:10.0.0.1")
'address ::ffff:10.0.0.1 is not public'
>>> address_problem("127.0.0.1", allow="loopback")
>>> url_problems("gopher://example.com/")
[('url', "only http(s) URLs are allowed, not 'gopher'")]
>>> url_problems("http://user:pw@example.com/")
[('url', 'credentials in the URL are not allowed: use headers or a credential')]
>>> url_problems("http://0x7f000001/")
[('url', 'address 0x7f000001 is not public')]
>>> url_problems("https://{{ event.data.host }}/hook")
[]
"""

from __future__ import annotations

__all__ = ["address_problem", "literal_ip", "url_problems", "header_problems"]

import ipaddress
import re
import socket
from urllib.parse import urlsplit

_DENY = [
    ipaddress.ip_network(n)
    for n in (
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "2002::/16",
        "::/96",
        "2001::/32",
        "192.0.0.0/24",
        "100.64.0.0/10",
        "198.18.0.0/15",
        "0.0.0.0/8",
        "240.0.0.0/4",
    )
]
_LEGACY_V4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)
_TEMPLATE = re.compile(r"\{[{%#]")
_TEMPLATE_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    packed = ip.packed
    if packed[:12] == bytes(12) or ip in _DENY[0] or ip in _DENY[1]:
        return ipaddress.IPv4Address(packed[-4:])
    return None


def literal_ip(host: str) -> Address | None:
    """The address a host name *is* (not resolves to), or None for a real name.

    >>> str(literal_ip("127.1")), str(literal_ip("[::1]")), literal_ip("example.com")
    ('127.0.0.1', '::1', None)
    """
    host = host.strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_V4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def address_problem(address: str | Address, allow: str = "") -> str | None:
    """Why ``address`` must not be contacted under ``allow``, or None when it may."""
    ip = address if not isinstance(address, str) else literal_ip(address)
    if ip is None:
        return f"{address} is not an IP address"
    if allow == "all":
        return None
    inner = _embedded_v4(ip) if ip.version == 6 else None
    if allow == "loopback" and any(c is not None and c.is_loopback for c in (ip, inner)):
        return None
    bad = (
        not ip.is_global
        or ip.is_multicast
        or any(ip in net for net in _DENY if net.version == ip.version)
        or (inner is not None and (not inner.is_global or any(inner in n for n in _DENY[5:])))
    )
    return f"address {address} is not public" if bad else None


def url_problems(url, allow: str = "", field: str = "url") -> list[tuple[str, str]]:
    """Problems of ``url`` that its literal part already shows (templates are left alone)."""
    if not isinstance(url, str):
        return []
    match = _TEMPLATE.search(url)
    literal = url if match is None else url[: match.start()]
    scheme, colon, rest = literal.partition(":")
    if not colon:
        return [] if match is not None else [(field, "not an absolute http(s) URL")]
    if scheme.lower() not in ("http", "https"):
        return [(field, f"only http(s) URLs are allowed, not {scheme.lower()!r}")]
    if not rest.startswith("//"):
        return [(field, "not an absolute http(s) URL")]
    skeleton = _TEMPLATE_BLOCK.sub("t", url)  # templates stand in for one harmless character
    authority = skeleton.partition("//")[2]
    if "@" in re.split(r"[/?#]", authority, maxsplit=1)[0]:
        return [(field, "credentials in the URL are not allowed: use headers or a credential")]
    authority = rest[2:]
    complete = match is None or re.search(r"[/?#]", authority)
    if not complete:
        return []
    try:
        host = urlsplit(literal).hostname or ""
    except ValueError as exc:
        return [(field, f"not a valid URL: {exc}")]
    if not host:
        return [(field, "the URL needs a host")]
    ip = literal_ip(host)
    problem = address_problem(ip, allow) if ip is not None else None
    return [(field, problem.replace(str(ip), host))] if problem else []


def header_problems(headers, field: str = "headers") -> list[tuple[str, str]]:
    """Header names or values with CR / LF (header injection) in their literal text."""
    if not isinstance(headers, dict):
        return []
    return [
        (f"{field}.{name}", "header names and values cannot contain line breaks")
        for name, value in headers.items()
        if any(c in f"{name}{value}" for c in "\r\n")
    ]
