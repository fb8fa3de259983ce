"""Which address the web app may put into absolute links (feed self links, the OPML list).

``MEDIAWATCH_BASE_URL`` decides when it is set. Otherwise the request's ``Host`` header is used only when it
names the address the request actually reached — the listening socket's address and port (ASGI
``scope["server"]``), ``localhost`` and the loopback addresses when that socket is a loopback one, and the
name the server was started with (``--host``) — so a forged Host can never end up in a link that a shared
cache keeps. An untrusted Host gets the same bytes as the files on disk without a base URL (no self links,
relative OPML URLs).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

DEFAULT_PORTS = {"http": 80, "https": 443}
WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def host_port(host: str, port: int) -> str:
    """``host:port`` as a Host header spells it (IPv6 literals in brackets), lower case."""
    host = host.strip().lower()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def bind_names(host: str, port: int) -> frozenset[str]:
    """The Host values the address given at start-up (``serve(host, port)``) stands for; none for a wildcard."""
    if host.strip().lower() in WILDCARDS:
        return frozenset()
    return frozenset({host_port(host, port)})


def allowed_hosts(server: tuple[str, int] | None, scheme: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Every Host header value to trust for a request that reached ``server`` (address, port) over ``scheme``."""
    names = set(extra)
    if server is not None and server[0]:
        address, port = str(server[0]), int(server[1])
        names.add(host_port(address, port))
        if _is_loopback(address):
            names.update(host_port(name, port) for name in LOOPBACK_NAMES)
    default = DEFAULT_PORTS.get(scheme)
    if default is not None:  # a client omits the default port from Host
        names |= {n.rsplit(":", 1)[0] for n in names if n.endswith(f":{default}")}
    return frozenset(names)


def trusted_host(
    host: str | None, server: tuple[str, int] | None, scheme: str, extra: Iterable[str] = ()
) -> bool:
    """True when the ``Host`` header value names this server (see the module doc)."""
    if not host:
        return False
    return host.strip().lower() in allowed_hosts(server, scheme, extra)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return address.lower() == "localhost"


__all__ = ["allowed_hosts", "bind_names", "host_port", "trusted_host"]
