"""No crossing from the public web into a private network.

A feed the config names may live anywhere, a loopback or office address included: its owner
wrote it. What the feed's server answers may not lead further: a redirect, or the feed link an
HTML page announces, may not take a download from a public address to a loopback, private,
link-local (cloud metadata at 169.254.169.254), multicast or otherwise non-global one. The
check is made on the resolved addresses, so a DNS name that points inside is caught too:

- before each such hop, the host name is resolved and every address it has must be public
  (``check_host``), so nothing is sent there;
- when the connection is made, the backend resolves the name itself, checks the address and
  connects to that very address (no second lookup that could answer otherwise:
  ``GuardedBackend``);
- after the answer, the address the connection really went to is checked again (a kept-alive
  connection opened for a feed that was allowed to go there: ``check_peer``).

``fetch.allow_private_redirects: true`` turns the check off. Which hops need it is decided by the
fetcher; the decision travels with the download's task in a context variable (``PUBLIC_ONLY``).
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import socket
import urllib.request
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

# Whether the connections made by the current task must go to public addresses only.
PUBLIC_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("PUBLIC_ONLY", default=False)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Blocked(Exception):
    """A hop that would lead into a private network; the message says where."""


def is_public(ip: Address) -> bool:
    """An address on the public internet: not loopback, private, link-local, shared (CGNAT),
    reserved, documentation or multicast; an IPv4 address mapped into IPv6 is judged as IPv4."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class Policy:
    """Which addresses count as public (``is_public``, or another rule in tests) and the hosts
    that are never checked (the configured proxies: the proxy connects, not us)."""

    def __init__(self, public: Callable[[Address], bool] = is_public,
                 exempt: Iterable[str] | None = None):
        self.public = public
        if exempt is None:
            exempt = [urlsplit(u).hostname or "" for u in urllib.request.getproxies().values()
                      if isinstance(u, str)]
        self.exempt = {h.lower() for h in exempt if h}

    def refuse(self, host: str, addresses: Iterable[str]) -> str | None:
        """Why ``host`` may not be reached at these addresses; None when it may."""
        for a in addresses:
            try:
                ip = ipaddress.ip_address(a.split("%", 1)[0])
            except ValueError:
                continue
            if not self.public(ip):
                shown = host if host == a else f"{host} ({a})"
                return (f"refused to follow the feed into a private network address: {shown} "
                        "(fetch.allow_private_redirects allows it)")
        return None


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (an IP literal resolves to itself); [] when it does not
    resolve (the connection then fails on its own, with the usual message)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return [host.strip("[]")]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_host(policy: Policy, url: str) -> None:
    """Raise ``Blocked`` when ``url``'s host resolves to an address that is not public."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or host in policy.exempt:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return
    reason = policy.refuse(host, await resolve(host, port))
    if reason:
        raise Blocked(reason)


def check_peer(policy: Policy, url: str, extensions: Any) -> None:
    """Raise ``Blocked`` when the connection that answered went to an address that is not public
    (a kept-alive connection made for another feed). Does nothing through a proxy."""
    host = (urlsplit(url).hostname or "").lower()
    stream = extensions.get("network_stream") if hasattr(extensions, "get") else None
    if stream is None or host in policy.exempt or policy.exempt:
        return
    try:
        peer = stream.get_extra_info("server_addr")
    except Exception:  # a stream that cannot say: the connect-time check stood
        return
    if isinstance(peer, tuple) and peer:
        reason = policy.refuse(host, [str(peer[0])])
        if reason:
            raise Blocked(reason)


class GuardedBackend:
    """An httpcore network backend that, while ``PUBLIC_ONLY`` is set, resolves the host itself,
    refuses any address that is not public and connects to the address it checked."""

    def __init__(self, inner: Any, policy: Policy):
        self.inner = inner
        self.policy = policy

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None) -> Any:
        if not PUBLIC_ONLY.get() or host.lower() in self.policy.exempt:
            return await self.inner.connect_tcp(host, port, timeout=timeout,
                                                local_address=local_address,
                                                socket_options=socket_options)
        addresses = await resolve(host, port)
        reason = self.policy.refuse(host, addresses)
        if reason:
            raise Blocked(reason)
        last: BaseException | None = None
        for address in addresses or [host]:
            try:
                return await self.inner.connect_tcp(address, port, timeout=timeout,
                                                    local_address=local_address,
                                                    socket_options=socket_options)
            except OSError as e:  # the next address, as a resolver-driven connect would
                last = e
            except Exception as e:  # httpcore's ConnectError and friends
                last = e
        assert last is not None
        raise last

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
        return await self.inner.connect_unix_socket(*args, **kwargs)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def install(client: Any, policy: Policy) -> bool:
    """Put a ``GuardedBackend`` under ``client``'s own connection pool (not a proxy's: there the
    proxy connects). False when this httpx keeps its pool elsewhere: the checks before each hop
    and on each answer still hold."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if pool is None or backend is None:
        return False
    if not isinstance(backend, GuardedBackend):
        pool._network_backend = GuardedBackend(backend, policy)
    return True
