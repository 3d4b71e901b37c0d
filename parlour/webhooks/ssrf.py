"""Where a webhook may be sent: server-side request forgery kept out.

An admin types the URL, and Parlour's server calls it: without a check, an endpoint
pointed at ``http://127.0.0.1:6379`` or ``http://169.254.169.254/`` would have Parlour
talk to services only it can reach. So only ``http``/``https`` URLs are taken, and a host
with any address in a loopback, private, link-local, multicast, reserved, unspecified or
otherwise non-global range is refused (IPv4-mapped IPv6 addresses count as the IPv4
address they carry), unless ``PARLOUR_WEBHOOKS_ALLOW_PRIVATE`` is set.

The check runs when an endpoint is saved (a clear 422 for the admin) and again before
every delivery, since what a name resolves to can change. A delivery then connects to the
very addresses that were checked (``Target.pinned_url``), not to whatever a second lookup by
the HTTP client would give: otherwise a name that answers a public address to the check
and 127.0.0.1 to the client (DNS rebinding) would get through. The original host still
goes in the ``Host`` header and, for https, in SNI and certificate checks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

from parlour.errors import InvalidInput

SCHEMES = ("http", "https")
# A resolver that does not answer in this long is treated as one that found nothing.
RESOLVE_SECONDS = 5.0

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlNotAllowed(InvalidInput):
    code = "url_not_allowed"


@dataclass(frozen=True)
class Target:
    """A URL that passed the check, with the addresses it may connect to (all checked),
    in the resolver's order."""

    url: httpx.URL
    addresses: tuple[IpAddress, ...]

    def pinned_url(self, address: IpAddress) -> httpx.URL:
        return self.url.copy_with(host=str(address))

    @property
    def host_header(self) -> str:
        return self.url.netloc.decode("ascii")


def parse(url: str) -> httpx.URL:
    """The URL if its form is acceptable: http(s), a host, no credentials in it."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise InvalidInput("That is not a valid URL.", code="invalid_url") from exc
    if parsed.scheme not in SCHEMES:
        raise UrlNotAllowed("Webhook URLs must start with http:// or https://.")
    if not parsed.host:
        raise InvalidInput("The URL has no host.", code="invalid_url")
    if parsed.userinfo:
        # They would be stored and shown in clear; a secret belongs in the signature.
        raise InvalidInput("The URL must not contain a user name or password.", code="invalid_url")
    return parsed


def is_public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # Python 3.11 does not look through the mapping itself.
        return is_public(address.ipv4_mapped)
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global  # shared (100.64/10), documentation and the like
    )


async def resolve(host: str, port: int) -> list[IpAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise UrlNotAllowed(f"The host {host} could not be resolved.") from exc
    found: list[IpAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # An IPv6 scope id ("fe80::1%eth0") is cut off: link-local is refused anyway.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise UrlNotAllowed(f"The host {host} could not be resolved.")
    return found


async def check(url: str, *, allow_private: bool) -> Target:
    """The URL and the address to deliver to; raises ``UrlNotAllowed`` (422) when it may
    not be called."""
    parsed = parse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = await resolve(parsed.host, port)
    if not allow_private:
        # ANY address, not the first: the HTTP client may try them all.
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise UrlNotAllowed(
                f"{parsed.host} is a private, loopback or otherwise internal address "
                f"({refused[0]}); webhooks may only call public addresses.",
            )
    return Target(parsed, tuple(addresses))
