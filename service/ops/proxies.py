"""Forwarded client addresses, trusted only from configured proxies.

``settings.trusted_proxies`` (``TALENTMATCH_TRUSTED_PROXIES``: comma-separated addresses or
networks; default none). When the connection comes from one of them, the client address is the
right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy; otherwise the header is
ignored, so a caller cannot pick the address its requests are rate-limited under.

uvicorn's own proxy-header handling trusts 127.0.0.1 by default; ``talentmatch serve`` turns it off
(run plain ``uvicorn`` with ``--no-proxy-headers``) so that this is the one place that decides.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str | None) -> list[Network]:
    out: list[Network] = []
    for part in (value or "").split(","):
        part = part.strip()
        if part:
            out.append(ipaddress.ip_network(part, strict=False))
    return out


def _trusted(host: str, networks: list[Network]) -> bool:
    try:
        address = ipaddress.ip_address(host.strip())
    except ValueError:
        return False
    return any(address in n for n in networks)


class TrustedProxies:
    def __init__(self, app: ASGIApp, *, networks: list[Network]) -> None:
        self.app = app
        self.networks = networks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.networks:
            client: Any = scope.get("client")
            if client and _trusted(client[0], self.networks):
                forwarded = [
                    value.decode("latin-1")
                    for name, value in scope.get("headers", [])
                    if name == b"x-forwarded-for"
                ]
                hops = [h.strip() for h in ",".join(forwarded).split(",") if h.strip()]
                for hop in reversed(hops):
                    if not _trusted(hop, self.networks):
                        try:
                            ipaddress.ip_address(hop)
                        except ValueError:
                            break  # a malformed entry: keep the proxy's own address
                        scope = {**scope, "client": (hop, 0)}
                        break
        await self.app(scope, receive, send)
