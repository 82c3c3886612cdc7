"""The HTTP (and file://) edge of ingest: one GET with limits, conditional requests and clear errors.

Everything that can go wrong with a remote resource becomes a FetchError naming the URL, so a bad
feed is logged with its reason and the batch goes on.

SSRF guard. Feed URLs come from configuration and from redirects chosen by remote servers, so a
fetch must not become a way into the operator's own network (loopback services, the intranet, the
cloud metadata endpoint at 169.254.169.254). The guard has two layers:

1. Pinning (primary). The client's transport uses `_GuardedBackend`, an httpcore network backend
   that replaces the DNS step of every new connection: it resolves the host once, refuses the
   connection unless *every* resolved address is public (or inside `FetchSettings.allowed_networks`),
   and then opens the socket to one of exactly those checked addresses. httpcore still sends the
   original Host header and uses the original name for TLS SNI and certificate checks (it passes
   the URL's host to `start_tls`, not the socket's address), so HTTPS works unchanged. DNS
   rebinding (a name that answers public for the check and private for the connect) cannot work:
   there is only one lookup. Every request and every redirect hop goes through it, because
   redirects are followed by hand and each new origin needs a new connection.
2. Verification (backstop). Before a body is read, the peer address of the connection that
   actually carried the response (`response.extensions["network_stream"]`) is checked again with
   the same policy. This holds even for a caller-supplied client without layer 1.

`_refusal()` is the one policy; `_check_destination()` is the per-URL gate (scheme, host) that
every hop passes before any connection is made.
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import httpcore
import httpx

from monitor.errors import FetchError
from monitor.extract.dates import parse_optional
from monitor.settings import FetchSettings

logger = logging.getLogger(__name__)

# Feed readers ask for feeds first but take anything: many servers send feeds as text/html.
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024

# Content types that cannot be a feed or a page. Everything else passes: feeds are served as
# text/html, text/plain, application/octet-stream and worse, and the parser gives the clear error.
_TEXT_LIKE_SUFFIXES = ("+xml", "/xml", "+json", "/json")
_GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip"})  # parse_feed inflates these
_BINARY_PREFIXES = ("image/", "video/", "audio/", "font/", "model/")
_BINARY_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/x-7z-compressed",
        "application/x-rar-compressed",
        "application/vnd.rar",
        "application/x-tar",
        "application/x-msdownload",
        "application/x-executable",
        "application/java-archive",
        "application/wasm",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
    }
)
# Declared "some bytes": let them through only when the first bytes do not look binary.
_SNIFFED_TYPES = frozenset({"application/octet-stream", "binary/octet-stream", "application/binary"})
_SNIFF_BYTES = 4096
# Text that legitimately has NUL bytes (UTF-16/32 XML) or is compressed starts with one of these.
_TEXTUAL_STARTS = (b"\x1f\x8b", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"<\x00", b"\x00<")

# Addresses that are not public although `is_private` says nothing (Python 3.11 classifies
# 100.64.0.0/10 as neither private nor global) and IPv6 prefixes that embed an IPv4 address.
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.IPv6Network("2002::/16")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d form
_ALLOW_HINT = "set MONITOR_FETCH_ALLOW_NETWORKS to allow"
_Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def _networks(limits: FetchSettings) -> _Networks:
    """`allowed_networks` parsed (Settings validated them; a bad literal here is a bug, so it raises)."""
    return tuple(ipaddress.ip_network(value, strict=False) for value in limits.allowed_networks)


class _HostSlots:
    """At most `limit` requests in flight per host name, across every thread of this process.

    Feeds are fetched by a thread pool and a summary-only feed's pages all live on one site: without
    this, one feed's twenty pages would hit that site twenty at a time. Keyed by host name (not
    address): that is what a site's operator sees as "one client hammering us". A thread waits for a
    slot at most `wait` seconds, then the fetch fails with a clear reason and the batch goes on.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[tuple[str, int], threading.BoundedSemaphore] = {}

    @contextlib.contextmanager
    def hold(self, host: str, limit: int, wait: float) -> Iterator[None]:
        with self._lock:
            slot = self._slots.get((host, limit))
            if slot is None:
                slot = self._slots[(host, limit)] = threading.BoundedSemaphore(limit)
        if not slot.acquire(timeout=wait):
            raise _Refused(f"{host} is busy: {limit} request(s) already in flight there for {wait:.0f} s")
        try:
            yield
        finally:
            slot.release()


_host_slots = _HostSlots()


class RateLimited(FetchError):
    """HTTP 429, or 503 with Retry-After: the server asked us to come back later.

    `retry_after_s` is how many seconds to wait before the next request (from Retry-After as
    delta-seconds or as an HTTP-date, at least 0); None when a 429 gave no
    usable Retry-After, in which case the caller's own backoff applies.
    """

    def __init__(self, source: str, reason: str, status: int, retry_after_s: float | None) -> None:
        super().__init__(source, reason, status=status)
        self.retry_after_s = retry_after_s


class _Refused(Exception):
    """Raised inside the transport when a destination fails the SSRF policy or cannot be resolved;
    `_fetch_http` turns it into a FetchError naming the URL the caller asked for."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FetchResult:
    url: str
    final_url: str
    status: int
    body: bytes | None  # None when not modified
    etag: str | None
    last_modified: str | None
    content_type: str | None
    not_modified: bool
    elapsed_ms: int


def fetch(
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    limits: FetchSettings,
    client: httpx.Client | None = None,
) -> FetchResult:
    """GET `url` (http, https or file) within `limits`; conditional when etag/last_modified are given.

    Raises FetchError for every failure: bad scheme, a destination refused by the SSRF guard, an
    unresolvable host, timeout, refused connection, HTTP status >= 400 (RateLimited for 429, and for
    503 with Retry-After), too many redirects, a body larger than `limits.max_bytes`, a content
    type that cannot be a feed or a page. A caller-supplied `client` should come from
    `guarded_client(limits)`; any other client is still checked after connecting (module docstring).
    """
    started = time.monotonic()
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        return _fetch_file(url, etag=etag, last_modified=last_modified, limits=limits, started=started)
    if scheme not in ("http", "https"):
        raise FetchError(url, f"unsupported URL scheme {scheme or '(none)'!r}: only http, https and file")

    headers = {"User-Agent": limits.user_agent, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = httpx.Timeout(
        connect=limits.connect_timeout,
        read=limits.read_timeout,
        write=limits.read_timeout,
        pool=limits.connect_timeout,
    )
    own_client = client is None
    http = client or guarded_client(limits)
    try:
        return _fetch_http(url, headers, timeout, limits, http, etag, last_modified, started)
    finally:
        if own_client:
            http.close()


def guarded_client(limits: FetchSettings) -> httpx.Client:
    """An httpx client whose every connection goes through the SSRF guard (pinned, checked address).

    No environment proxies (trust_env=False): a proxy would make the checked address meaningless.
    """
    return httpx.Client(
        transport=_GuardedTransport(_networks(limits)), follow_redirects=False, trust_env=False
    )


class _GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend with our own name resolution: resolve once, check, connect to it."""

    def __init__(self, allowed: _Networks) -> None:
        self._allowed = allowed

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        addresses = _resolve_checked(host, port, self._allowed, timeout)
        last: Exception | None = None
        for address in addresses:  # like socket.create_connection: first address that answers
            try:
                # An IP literal: the parent's socket.create_connection does no DNS lookup of its own.
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None  # _resolve_checked never returns an empty list
        raise last


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, allowed: _Networks) -> None:
        super().__init__(trust_env=False)
        # httpx has no public hook for name resolution; its pool hands `_network_backend` to every
        # new connection (httpx 0.28 / httpcore 1.0). Fail loudly if that ever changes rather than
        # fetch unguarded; the post-connect check in _verify_peer would still refuse, but late.
        pool = self._pool
        if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
            raise RuntimeError("httpx/httpcore internals changed: cannot install the SSRF guard")
        pool._network_backend = _GuardedBackend(allowed)


# getaddrinfo has no timeout of its own (the system resolver's can be 5 s x attempts x servers):
# lookups run on these threads so the connect timeout bounds them. A lookup that overruns keeps its
# thread until the resolver gives up; with every thread stuck, later lookups wait and time out too.
_resolver = ThreadPoolExecutor(max_workers=8, thread_name_prefix="monitor-dns")


def _getaddrinfo(host: str, port: int, timeout: float | None) -> list[Any]:
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        raise _Refused(f"cannot resolve host {host!r}: no DNS answer within {timeout:g} s") from None


def _resolve_checked(host: str, port: int, allowed: _Networks, timeout: float | None = None) -> list[str]:
    """The addresses of `host`, all of them permitted by `_refusal`, else _Refused.

    Every answer must pass, not just one: a name that resolves to a public and a private address
    would otherwise reach the private one whenever the public one is slow. The lookup counts against
    `timeout` (the connect timeout).
    """
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        # RFC 6761: these names are loopback whatever DNS says (glibc does not resolve "localhost.").
        candidates = ["127.0.0.1", "::1"]
    else:
        try:
            infos = _getaddrinfo(host, port, timeout)
        except (socket.gaierror, UnicodeError) as exc:
            raise _Refused(f"cannot resolve host {host!r}: {getattr(exc, 'strerror', None) or exc}") from exc
        candidates = list(dict.fromkeys(str(info[4][0]) for info in infos))  # unique, in order
        if not candidates:
            raise _Refused(f"cannot resolve host {host!r}: no addresses")
    for candidate in candidates:
        reason = _refusal(ipaddress.ip_address(candidate.split("%", 1)[0]), allowed)
        if reason:
            raise _Refused(reason)
    return candidates


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv6 one (mapped, compatible, NAT64, 6to4), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):  # ::1 and :: are themselves
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _refusal(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
    allowed: _Networks,
) -> str | None:
    """Why connecting to `ip` is refused, or None when it is public or explicitly allowed.

    The one SSRF policy. An IPv6 form that embeds an IPv4 address (::ffff:127.0.0.1, NAT64, 6to4)
    is judged by that IPv4 address, since that is where the packets go.
    """
    embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    judged = embedded or ip
    if any(judged in network or ip in network for network in allowed):
        return None
    kind = _address_kind(judged)
    if kind is None:
        return None
    shown = f"{ip} ({embedded})" if embedded else str(ip)
    return f"refused: {shown} is {kind} ({_ALLOW_HINT})"


def _address_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    # Order matters: 127.0.0.1 is also "private" for Python; name the most specific category.
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a shared (CGNAT) address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "a non-public address"
    return None


def _check_destination(original: str, url: str) -> None:
    """Every URL we are about to request passes here: the first one and each redirect target.

    It checks what can be checked on the URL itself (scheme, a host present). The address check
    happens when the connection is opened (`_GuardedBackend`), because only there can the checked
    address be the one connected to; and again on the live connection (`_verify_peer`).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(original, f"redirect to unsupported URL scheme {scheme!r}: {url}")
    if not parts.hostname:
        raise FetchError(original, f"invalid URL: no host in {url}")


def _verify_peer(resp: httpx.Response, allowed: _Networks) -> None:
    """Check the address the response really came from, before any of its body is read."""
    stream = resp.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if not peer:
        # Fail closed: without the peer address we cannot tell where we are connected.
        raise _Refused("refused: cannot verify the connected address")
    reason = _refusal(ipaddress.ip_address(str(peer[0]).split("%", 1)[0]), allowed)
    if reason:
        raise _Refused(reason)


def _fetch_http(
    url: str,
    headers: dict[str, str],
    timeout: httpx.Timeout,
    limits: FetchSettings,
    http: httpx.Client,
    etag: str | None,
    last_modified: str | None,
    started: float,
) -> FetchResult:
    current = url
    allowed = _networks(limits)
    # Redirects are followed by hand so that each hop goes through _check_destination.
    for _hop in range(limits.max_redirects + 1):
        _check_destination(url, current)
        host = (urlsplit(current).hostname or "").lower()
        remaining = limits.total_timeout - (time.monotonic() - started)
        try:
            with (
                _host_slots.hold(host, limits.per_host, max(remaining, 0.0)),
                http.stream("GET", current, headers=headers, timeout=timeout, follow_redirects=False) as resp,
            ):
                _verify_peer(resp, allowed)
                if resp.status_code in _REDIRECT_STATUSES and "location" in resp.headers:
                    current = urljoin(str(resp.url), resp.headers["location"])
                    continue
                return _read_response(url, resp, limits, etag, last_modified, started)
        except _Refused as exc:
            hop = "" if current == url else f" (redirected to {current})"
            raise FetchError(url, exc.reason + hop) from None
        except httpx.TimeoutException as exc:
            raise FetchError(url, _timeout_reason(exc, limits)) from exc
        except httpx.TooManyRedirects as exc:  # only when a caller's client follows redirects itself
            raise FetchError(url, f"too many redirects (more than {limits.max_redirects})") from exc
        except httpx.DecodingError as exc:
            raise FetchError(url, f"cannot decode the response body: {exc}") from exc
        except httpx.InvalidURL as exc:
            raise FetchError(url, f"invalid URL: {exc}") from exc
        except httpx.HTTPError as exc:  # ConnectError, RemoteProtocolError, ...
            raise FetchError(url, f"connection failed: {exc or type(exc).__name__}") from exc
    raise FetchError(url, f"too many redirects (more than {limits.max_redirects})")


def _timeout_reason(exc: httpx.TimeoutException, limits: FetchSettings) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timed out after {limits.connect_timeout:g}s (connect)"
    if isinstance(exc, httpx.PoolTimeout):
        return f"timed out after {limits.connect_timeout:g}s (pool)"
    if isinstance(exc, httpx.WriteTimeout):
        return f"timed out after {limits.read_timeout:g}s (write)"
    return f"timed out after {limits.read_timeout:g}s (read)"


def _read_response(
    url: str,
    resp: httpx.Response,
    limits: FetchSettings,
    etag: str | None,
    last_modified: str | None,
    started: float,
) -> FetchResult:
    final_url = str(resp.url)
    if resp.status_code == 304:
        # A 304 may omit the validators; the ones we sent are still the current ones.
        return FetchResult(
            url=url,
            final_url=final_url,
            status=304,
            body=None,
            etag=resp.headers.get("etag") or etag,
            last_modified=resp.headers.get("last-modified") or last_modified,
            content_type=resp.headers.get("content-type"),
            not_modified=True,
            elapsed_ms=_elapsed_ms(started),
        )
    if resp.status_code >= 400:
        reason = f"HTTP {resp.status_code} {resp.reason_phrase or ''}".strip()
        retry_after = _retry_after_s(resp.headers.get("retry-after"))
        if resp.status_code == 429 or (resp.status_code == 503 and retry_after is not None):
            if retry_after is not None:
                reason += f"; retry after {retry_after:g}s"
            raise RateLimited(url, reason, status=resp.status_code, retry_after_s=retry_after)
        raise FetchError(url, reason, status=resp.status_code)
    media_type = _media_type(resp.headers.get("content-type"))
    if _is_binary_type(media_type):
        raise FetchError(url, f"unexpected content type {media_type}")

    declared = resp.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
        # Even compressed it is already over the limit: do not download it at all.
        raise FetchError(url, f"response larger than {limits.max_bytes} bytes (Content-Length {declared})")
    chunks: list[bytes] = []
    size = 0
    deadline = started + limits.total_timeout
    # iter_bytes yields decoded (decompressed) bytes, so the cap holds against gzip bombs.
    for chunk in resp.iter_bytes(_CHUNK):
        size += len(chunk)
        if size > limits.max_bytes:
            raise FetchError(url, f"response larger than {limits.max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchError(url, f"timed out after {limits.total_timeout:g}s (total)")
        chunks.append(chunk)
    body = b"".join(chunks)
    if media_type in _SNIFFED_TYPES and _looks_binary(body):
        raise FetchError(url, f"unexpected content type {media_type} (binary content)")
    return FetchResult(
        url=url,
        final_url=final_url,
        status=resp.status_code,
        body=body,
        etag=resp.headers.get("etag"),
        last_modified=resp.headers.get("last-modified"),
        content_type=resp.headers.get("content-type"),
        not_modified=False,
        elapsed_ms=_elapsed_ms(started),
    )


def _retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds ("120") or an HTTP-date; None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit alone accepts "²", which float() refuses
        seconds = float(value)
    else:
        when = parse_optional(value)  # HTTP-dates are GMT; the obsolete forms may omit the zone
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    # Reported as asked (a date in the past is now); how long a feed may really be parked is the
    # feed state's decision (`store.sources.record_fetch`, capped by the feed backoff setting).
    return max(seconds, 0.0)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_binary_type(media_type: str) -> bool:
    if not media_type or media_type.startswith("text/") or media_type in _GZIP_TYPES:
        return False
    if media_type.endswith(_TEXT_LIKE_SUFFIXES):
        return False
    return media_type.startswith(_BINARY_PREFIXES) or media_type in _BINARY_TYPES


def _looks_binary(body: bytes) -> bool:
    sample = body[:_SNIFF_BYTES]
    return b"\x00" in sample and not sample.startswith(_TEXTUAL_STARTS)


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _file_etag(stat_result: object) -> str:
    # Changes whenever the file is rewritten (mtime) or resized; good enough for a local inbox.
    mtime_ns = getattr(stat_result, "st_mtime_ns", 0)
    size = getattr(stat_result, "st_size", 0)
    return f'"{mtime_ns:x}-{size:x}"'


def _fetch_file(
    url: str, *, etag: str | None, last_modified: str | None, limits: FetchSettings, started: float
) -> FetchResult:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise FetchError(url, f"file URL on another host ({parts.netloc}) is not supported")
    path = Path(url2pathname(parts.path))
    try:
        stat_result = path.stat()
    except FileNotFoundError as exc:
        raise FetchError(url, f"no such file: {path}") from exc
    except OSError as exc:
        raise FetchError(url, f"cannot read {path}: {exc.strerror or exc}") from exc
    if not path.is_file():
        raise FetchError(url, f"not a regular file: {path}")
    mtime = datetime.fromtimestamp(int(stat_result.st_mtime), tz=UTC)
    current_etag = _file_etag(stat_result)
    current_modified = email.utils.format_datetime(mtime, usegmt=True)
    if _file_unchanged(etag, last_modified, current_etag, mtime):
        return FetchResult(
            url, url, 304, None, current_etag, current_modified, None, True, _elapsed_ms(started)
        )
    if stat_result.st_size > limits.max_bytes:
        raise FetchError(
            url, f"response larger than {limits.max_bytes} bytes (file is {stat_result.st_size})"
        )
    try:
        with path.open("rb") as handle:
            body = handle.read(limits.max_bytes + 1)  # the file may grow between stat and read
    except OSError as exc:
        raise FetchError(url, f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(body) > limits.max_bytes:
        raise FetchError(url, f"response larger than {limits.max_bytes} bytes")
    return FetchResult(url, url, 200, body, current_etag, current_modified, None, False, _elapsed_ms(started))


def _file_unchanged(etag: str | None, last_modified: str | None, current_etag: str, mtime: datetime) -> bool:
    # Same precedence as HTTP: If-None-Match decides when given, else If-Modified-Since.
    if etag:
        return etag == current_etag
    if last_modified:
        since = parse_optional(last_modified)
        return since is not None and mtime <= since
    return False
