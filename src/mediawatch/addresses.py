"""Which private addresses collection may reach: only those the operator named.

A feed or a listing page is outside content. Were it able to send the collector anywhere by a redirect or an
article link (``http://169.254.169.254/…``, ``http://127.0.0.1:6379/``, an intranet page), what came back would
be stored and published in pages and feeds. So an address that is not public (loopback, private, link-local,
carrier-grade NAT, reserved; ``localhost``) is reached only at a host and port the sources file (or the
command line, for ``probe``) names itself. Public addresses are not restricted.

An IPv4 address is recognised in every form the C library's ``inet_aton`` (and so ``getaddrinfo``, which the
HTTP client connects through) reads as one: ``2130706433``, ``127.1``, ``0x7f000001``, ``0177.0.0.1`` all
connect to 127.0.0.1, so all are refused before connecting, as the dotted quad is.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_DIGITS = {8: frozenset("01234567"), 10: frozenset("0123456789"), 16: frozenset("0123456789abcdefABCDEF")}


def numeric_ipv4(text: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``text`` names as the C library's ``inet_aton`` reads it, else None: one to four parts
    separated by dots, each decimal, octal (a leading ``0``) or hexadecimal (``0x``); the last part fills the
    bytes the others leave (``127.1`` is 127.0.0.1, ``2130706433`` and ``0x7f000001`` too)."""
    parts = text.split(".")
    if len(parts) > 4:
        return None
    values: list[int] = []
    for part in parts:
        if part[:2] in ("0x", "0X"):
            digits, base = part[2:], 16
        elif len(part) > 1 and part[0] == "0":
            digits, base = part[1:], 8
        else:
            digits, base = part, 10
        if not digits or not set(digits) <= _DIGITS[base]:
            return None
        significant = digits.lstrip("0") or "0"
        if len(significant) > 11:  # more than 32 bits in any base (and never a huge int() to read)
            return None
        values.append(int(significant, base))
    last = values.pop()
    if any(value > 0xFF for value in values) or last >= 1 << (8 * (4 - len(values))):
        return None
    number = last
    for n, value in enumerate(values):
        number |= value << (8 * (3 - n))
    return ipaddress.IPv4Address(number)


def ip_literal(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a URL's host ``text`` is (brackets, an IPv6 zone and a trailing dot allowed; IPv4 in any
    form ``inet_aton`` reads), else None."""
    host = text.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return numeric_ipv4(host.rstrip("."))


def is_private_ip(text: str) -> bool | None:
    """Whether the IP address ``text`` is not a public one; None when ``text`` is not an IP address."""
    address = ip_literal(text)
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global


def is_private_name(host: str) -> bool:
    """A host that names a non-public address by itself: an IP literal that is not public, or ``localhost``."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    return bool(is_private_ip(host))


def _key(host: str, port: int | None, scheme: str) -> tuple[str, int]:
    """(host, port) as compared: an IP address in its usual form, whichever way it was written."""
    name = host.lower().rstrip(".").strip("[]")
    address = ip_literal(name)
    return (str(address) if address is not None else name), port or DEFAULT_PORTS.get(scheme, 80)


@dataclass(frozen=True, slots=True)
class PrivateAccess:
    """The (host, port) pairs the operator named; a private address is reachable only there."""

    named: frozenset[tuple[str, int]]

    @classmethod
    def from_urls(cls, urls: Iterable[str | None]) -> PrivateAccess:
        named = set()
        for url in urls:
            if not url:
                continue
            try:
                parts = urlsplit(url)
                port = parts.port
            except ValueError:
                continue
            if parts.hostname:
                named.add(_key(parts.hostname, port, parts.scheme))
        return cls(frozenset(named))

    def allows(self, host: str, port: int | None, scheme: str = "http") -> bool:
        return _key(host, port, scheme) in self.named

    def refusal(self, host: str, port: int | None, scheme: str, peer: str | None = None) -> str | None:
        """Why a request to ``host``:``port`` (connected to the IP ``peer``, when known) is refused, or None.
        Before connecting (``peer`` None) only a host that names a private address by itself is refused."""
        if self.allows(host, port, scheme):
            return None
        if peer is None:
            if not is_private_name(host):
                return None
            address = ip_literal(host)
            shown = host if address is None or str(address) == host.strip("[]") else f"{host} ({address})"
            return f"refused: {shown} is a private address the sources file does not name"
        if is_private_ip(peer) and not self.allows(peer, port, scheme):
            return f"refused: {host} resolves to a private address ({peer}) the sources file does not name"
        return None
