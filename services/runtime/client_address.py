"""The client's address behind proxies, for rate limits and audit.

``X-Forwarded-For`` is a list each proxy appends its peer to; everything left
of the last proxy we trust was written by whoever sent the request, and may
be made up. So the client is found from the right: start at the TCP peer and,
while that address is one of the trusted proxies (``XCISS_TRUSTED_PROXIES``),
step to the address it forwarded. The first address that is not a trusted
proxy is the client. A request from an untrusted peer is answered by its
peer address whatever the header says.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: loopback: ``xciss up`` runs the gateway and the services on one host
DEFAULT_TRUSTED = "127.0.0.0/8,::1/128"


def parse_networks(spec: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 192.168.1.7"`` → networks; ValueError names a bad entry."""
    out = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ValueError(f"not an IP address or network: {part!r}") from exc
    return tuple(out)


@lru_cache(maxsize=16)
def networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks of a setting's entries (parsed once)."""
    return parse_networks(",".join(entries))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: Iterable[Network]) -> bool:
    return any(addr.version == n.version and addr in n for n in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Iterable[Network]) -> str:
    """The client's address: the peer, or — while the hop is a trusted proxy — the
    address that proxy forwarded (right to left). An entry that is not an address
    ends the walk at the last proxy that was trusted."""
    trusted = tuple(trusted)
    current = _address(peer or "")
    if current is None:
        return (peer or "unknown")[:64]
    if not forwarded_for:
        return str(current)
    for entry in reversed(forwarded_for.split(",")):
        if not _trusted(current, trusted):
            break
        hop = _address(entry)
        if hop is None:
            break
        current = hop
    return str(current)
