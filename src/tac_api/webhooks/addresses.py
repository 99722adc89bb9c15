"""Where a webhook may send: the rules of an address, checked when it is given and again before
every delivery, and the one checked address that a delivery connects to.

Deliveries leave from inside the service's network, so an address on this machine or a private
network would let a caller make the service post to what the internet cannot reach. A host name is
looked up each time (its owner may repoint it after registration), every address it has must be on
the internet, and the delivery connects to the address checked: were the HTTP client left to look
the name up again, a name server answering differently the second time would win.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Protocol

import httpx

from tac_api.config import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_PORTS = (443, 8443)
DEVELOPMENT = "TAC_WEBHOOK_ALLOW_HTTP, for development"
# Names that are this machine or a local network by definition, refused without a lookup.
LOCAL_NAMES = ("localhost",)
LOCAL_SUFFIXES = (".localhost", ".local", ".internal")
# NAT64's well-known prefix carries an IPv4 address in its last 32 bits, and a NAT64 gateway
# would connect to that one.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Deprecated "IPv4-compatible" addresses (::a.b.c.d), which `is_global` lets through.
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class Resolver(Protocol):
    async def __call__(self, host: str, port: int) -> list[Address]:
        """The addresses of a host name (IDNA, no trailing dot); none when it has none."""
        ...


async def system_resolver(host: str, port: int) -> list[Address]:
    """The operating system's resolver, off the event loop (getaddrinfo blocks)."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # socket.gaierror: no such name, or no answer
        return []
    return list(dict.fromkeys(ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in found))


class Refused(Exception):
    """What is wrong with an address, worded to follow "url: "."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Destination:
    """A checked address: the URL as given, and the one address to connect to."""

    url: httpx.URL
    address: Address
    numeric: bool  # the URL names an IP rather than a host name

    def request(
        self, client: httpx.AsyncClient, body: bytes, headers: dict[str, str]
    ) -> httpx.Request:
        """A POST to the checked address, that still names the host to the receiver (`Host`)
        and to TLS (SNI, and the certificate checked against the name)."""
        extensions = {}
        if self.url.scheme == "https" and not self.numeric:
            extensions["sni_hostname"] = self.url.raw_host.decode("ascii")
        return client.build_request(
            "POST",
            self.url.copy_with(host=str(self.address)),
            content=body,
            headers={**headers, "Host": self.url.netloc.decode("ascii")},
            extensions=extensions,
        )


def numeric_address(host: str) -> Address | None:
    """The IP a host is, in any spelling the system's resolver reads as one: `127.1`,
    `0x7f000001`, `2130706433` and `017700000001` are all 127.0.0.1 to it (inet_aton)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def on_the_internet(address: Address) -> bool:
    """Globally routable, and no IPv6 spelling of an IPv4 address that is not."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return on_the_internet(address.ipv4_mapped)
        if address.sixtofour is not None and not on_the_internet(address.sixtofour):
            return False
        if address in NAT64:
            return on_the_internet(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address in IPV4_COMPATIBLE:
            return False
    return address.is_global and not address.is_multicast and not address.is_reserved


def parse(url: str, allow_http: bool) -> httpx.URL:
    """The rules an address's text must meet (no lookup): as the HTTP client will read it."""
    if any(character.isspace() or ord(character) < 32 for character in url):
        raise Refused("must not contain spaces or control characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise Refused("is not a URL") from None
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise Refused("is not a URL")
    if parsed.scheme not in (("https", "http") if allow_http else ("https",)):
        raise Refused(f"must be https (plain http only with {DEVELOPMENT})")
    if parsed.userinfo:
        # It would be shown on every read of the webhook; the shared secret signs instead.
        raise Refused("must not carry a user name or password: every delivery is signed instead")
    if not parsed.host:
        raise Refused("needs a host name")
    if parsed.fragment:
        raise Refused("must not have a fragment (#...): it is never sent")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if not allow_http and port not in ALLOWED_PORTS:
        raise Refused(f"must use port 443 or 8443 (others only with {DEVELOPMENT})")
    return parsed


NOT_ON_THE_INTERNET = (
    "must be an address on the internet, not this machine or a private network "
    f"(those only with {DEVELOPMENT})"
)


@dataclass(frozen=True)
class Rules:
    """The rules in force: TAC_WEBHOOK_ALLOW_HTTP, how names are looked up, and for how long."""

    allow_http: bool
    resolver: Resolver
    seconds: float

    @classmethod
    def of(cls, settings: Settings, resolver: Resolver) -> "Rules":
        return cls(settings.webhook_allow_http, resolver, settings.webhook_timeout_seconds)

    async def check(self, url: str) -> Destination:
        """The address to deliver to, looked up now and checked; or Refused."""
        allow_http = self.allow_http
        parsed = parse(url, allow_http)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        # The name as sent to a name server: IDNA, lower case, without the root's trailing dot.
        host = parsed.raw_host.decode("ascii").lower().rstrip(".")
        if not host:
            raise Refused("needs a host name")
        address = numeric_address(host)
        if address is not None:
            if not allow_http and not on_the_internet(address):
                raise Refused(NOT_ON_THE_INTERNET)
            return Destination(parsed, address, numeric=True)
        if not allow_http and (host in LOCAL_NAMES or host.endswith(LOCAL_SUFFIXES)):
            raise Refused(NOT_ON_THE_INTERNET)
        try:
            async with asyncio.timeout(self.seconds):
                found = await self.resolver(host, port)
        except TimeoutError:
            found = []
        if not found:
            raise Refused(f"names a host that could not be found ({host})")
        if not allow_http and not all(on_the_internet(each) for each in found):
            raise Refused(
                "must be an address on the internet: its host name leads to this machine or a "
                f"private network (those only with {DEVELOPMENT})"
            )
        return Destination(parsed, found[0], numeric=False)
