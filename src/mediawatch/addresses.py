"""Which private addresses collection may reach: only those the operator named.

A feed or a listing page is outside content. Were it able to send the collector anywhere by a redirect or an
article link (``http://169.254.169.254/…``, ``http://127.0.0.1:6379/``, an intranet page), what came back would
be stored and published in pages and feeds. So an address that is not public (loopback, private, link-local,
carrier-grade NAT, reserved; ``localhost``) is reached only at a host and port the sources file (or the
command line, for ``probe``) names itself. Public addresses are not restricted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def is_private_ip(text: str) -> bool | None:
    """Whether the IP address ``text`` is not a public one; None when ``text`` is not an IP address."""
    try:
        address = ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
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
    return host.lower().rstrip(".").strip("[]"), port or DEFAULT_PORTS.get(scheme, 80)


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
            return f"refused: {host} is a private address the sources file does not name" if is_private_name(host) else None
        if is_private_ip(peer) and not self.allows(peer, port, scheme):
            return f"refused: {host} resolves to a private address ({peer}) the sources file does not name"
        return None
