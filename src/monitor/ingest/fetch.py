"""The HTTP (and file://) edge of ingest: one GET with limits, conditional requests and clear errors.

Everything that can go wrong with a remote resource becomes a FetchError naming the URL, so a bad
feed is logged with its reason and the batch goes on.
"""

from __future__ import annotations

import email.utils
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import httpx

from monitor.errors import FetchError
from monitor.settings import FetchSettings

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "security-media-monitor/0.1 (+https://github.com/security-media-monitor/monitor)"
# Feed readers ask for feeds first but take anything: many servers send feeds as text/html.
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchLimits:
    """Bounds of one fetch. Values come from Settings; the defaults suit news feeds and pages."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # per read: the longest silence tolerated between two chunks
    max_bytes: int = 10 * 1024 * 1024  # counted after decompression (gzip bombs)
    user_agent: str = DEFAULT_USER_AGENT
    max_redirects: int = 5
    # A server that drips a byte per read_timeout would never trip the read timeout: cap the total.
    total_timeout: float = 120.0
    # Networks (CIDR) that may be fetched although private/loopback/link-local: intranet feeds, tests.
    allowed_networks: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, fetch: FetchSettings) -> FetchLimits:
        return cls(
            connect_timeout=fetch.connect_timeout,
            read_timeout=fetch.read_timeout,
            max_bytes=fetch.max_bytes,
            user_agent=fetch.user_agent,
            max_redirects=fetch.max_redirects,
            allowed_networks=fetch.allowed_networks,
        )


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
    limits: FetchLimits,
    client: httpx.Client | None = None,
) -> FetchResult:
    """GET `url` (http, https or file) within `limits`; conditional when etag/last_modified are given.

    Raises FetchError for every failure: bad scheme, timeout, refused connection, HTTP status >= 400,
    too many redirects, a body larger than `limits.max_bytes`.
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
    http = client or httpx.Client(follow_redirects=False, trust_env=False)
    try:
        return _fetch_http(url, headers, timeout, limits, http, etag, last_modified, started)
    finally:
        if own_client:
            http.close()


def _check_destination(original: str, url: str) -> None:
    """Every URL we are about to connect to passes here: the first one and each redirect target.

    SSRF guard goes here: resolve the host and refuse loopback, private, link-local and reserved
    addresses (and connect to the checked address, so DNS cannot change between check and use).
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(original, f"redirect to unsupported URL scheme {scheme!r}: {url}")


def _fetch_http(
    url: str,
    headers: dict[str, str],
    timeout: httpx.Timeout,
    limits: FetchLimits,
    http: httpx.Client,
    etag: str | None,
    last_modified: str | None,
    started: float,
) -> FetchResult:
    current = url
    # Redirects are followed by hand so that each hop goes through _check_destination.
    for _hop in range(limits.max_redirects + 1):
        _check_destination(url, current)
        try:
            with http.stream(
                "GET", current, headers=headers, timeout=timeout, follow_redirects=False
            ) as resp:
                if resp.status_code in _REDIRECT_STATUSES and "location" in resp.headers:
                    current = urljoin(str(resp.url), resp.headers["location"])
                    continue
                return _read_response(url, resp, limits, etag, last_modified, started)
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


def _timeout_reason(exc: httpx.TimeoutException, limits: FetchLimits) -> str:
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
    limits: FetchLimits,
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
        reason = resp.reason_phrase or ""
        raise FetchError(url, f"HTTP {resp.status_code} {reason}".strip(), status=resp.status_code)

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
    return FetchResult(
        url=url,
        final_url=final_url,
        status=resp.status_code,
        body=b"".join(chunks),
        etag=resp.headers.get("etag"),
        last_modified=resp.headers.get("last-modified"),
        content_type=resp.headers.get("content-type"),
        not_modified=False,
        elapsed_ms=_elapsed_ms(started),
    )


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _file_etag(stat_result: object) -> str:
    # Changes whenever the file is rewritten (mtime) or resized; good enough for a local inbox.
    mtime_ns = getattr(stat_result, "st_mtime_ns", 0)
    size = getattr(stat_result, "st_size", 0)
    return f'"{mtime_ns:x}-{size:x}"'


def _fetch_file(
    url: str, *, etag: str | None, last_modified: str | None, limits: FetchLimits, started: float
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
        try:
            since = email.utils.parsedate_to_datetime(last_modified)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return mtime <= since
    return False
