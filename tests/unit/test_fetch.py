"""ingest.fetch against a real local HTTP server (tests/httpserver.py) and real files."""

from __future__ import annotations

import email.utils
import gzip
import os
import sys
import time
from pathlib import Path

import pytest

# tests/ holds the shared local HTTP server helper; the root conftest normally puts it on sys.path.
_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from httpserver import Route, serve  # noqa: E402
from monitor.errors import FetchError  # noqa: E402
from monitor.ingest.fetch import RateLimited, _retry_after_s, fetch  # noqa: E402
from monitor.settings import FetchSettings  # noqa: E402

# The local test server is on 127.0.0.1, which the SSRF guard refuses unless allowed.
LOCAL = ("127.0.0.0/8",)
LIMITS = FetchSettings(
    connect_timeout=0.5, read_timeout=0.5, max_bytes=100_000, max_redirects=3, allowed_networks=LOCAL
)
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
ETAG = '"feed-v1"'
LAST_MODIFIED = "Tue, 05 Mar 2024 10:00:00 GMT"


def _conditional(headers: dict[str, str]) -> Route:
    if headers.get("if-none-match") == ETAG:
        return Route(status=304, headers={"ETag": ETAG})
    return Route(
        body=FEED,
        headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED, "Content-Type": "application/rss+xml"},
    )


def test_200_then_conditional_get_gives_not_modified() -> None:
    route = Route(respond=_conditional)
    with serve({"/feed.xml": route}) as base:
        first = fetch(base + "/feed.xml", etag=None, last_modified=None, limits=LIMITS)
        second = fetch(base + "/feed.xml", etag=first.etag, last_modified=first.last_modified, limits=LIMITS)
    assert first.status == 200 and first.body == FEED and not first.not_modified
    assert first.etag == ETAG and first.last_modified == LAST_MODIFIED
    assert first.content_type == "application/rss+xml"
    assert "if-none-match" not in route.requests[0]
    assert route.requests[1]["if-none-match"] == ETAG
    assert route.requests[1]["if-modified-since"] == LAST_MODIFIED
    assert route.requests[0]["user-agent"].startswith("security-media-monitor/")
    assert second.not_modified and second.status == 304 and second.body is None
    assert second.etag == ETAG and second.last_modified == LAST_MODIFIED  # kept from the request


@pytest.mark.parametrize(
    ("status", "reason"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error")]
)
def test_http_error_status_raises_with_status(status: int, reason: str) -> None:
    with serve({"/x": Route(status=status, body=b"nope")}) as base, pytest.raises(FetchError) as info:
        fetch(base + "/x", etag=None, last_modified=None, limits=LIMITS)
    assert info.value.status == status
    assert info.value.reason == reason
    assert str(info.value).startswith(base + "/x: ")


def test_slow_server_times_out_quickly() -> None:
    with serve({"/slow": Route(body=FEED, delay=3)}) as base:
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"timed out after 0.5s \(read\)"):
            fetch(base + "/slow", etag=None, last_modified=None, limits=LIMITS)
        assert time.monotonic() - started < 2


def test_dripping_server_hits_total_timeout() -> None:
    limits = FetchSettings(
        connect_timeout=0.5, read_timeout=0.5, max_bytes=100_000, total_timeout=0.6, allowed_networks=LOCAL
    )
    drip = Route(body=b"x" * 2000, chunk_size=100, chunk_delay=0.1)
    with serve({"/drip": drip}) as base, pytest.raises(FetchError, match=r"\(total\)"):
        fetch(base + "/drip", etag=None, last_modified=None, limits=limits)


def test_connection_refused_raises() -> None:
    with serve({}) as base:
        pass  # the port is free again once the server is gone
    with pytest.raises(FetchError, match="connection failed"):
        fetch(base + "/feed", etag=None, last_modified=None, limits=LIMITS)


def test_oversized_body_is_refused_with_and_without_content_length() -> None:
    big = b"a" * 200_000
    routes = {"/declared": Route(body=big), "/streamed": Route(body=big, send_length=False)}
    with serve(routes) as base:
        for path in routes:
            with pytest.raises(FetchError, match="response larger than 100000 bytes"):
                fetch(base + path, etag=None, last_modified=None, limits=LIMITS)


def test_gzip_bomb_is_refused_after_decompression() -> None:
    bomb = gzip.compress(b"\0" * 20_000_000, compresslevel=9)
    assert len(bomb) < LIMITS.max_bytes  # small on the wire, so Content-Length does not give it away
    route = Route(body=bomb, headers={"Content-Encoding": "gzip"})
    with (
        serve({"/bomb": route}) as base,
        pytest.raises(FetchError, match="response larger than 100000 bytes"),
    ):
        fetch(base + "/bomb", etag=None, last_modified=None, limits=LIMITS)


def test_gzip_body_is_decompressed() -> None:
    route = Route(body=gzip.compress(FEED), headers={"Content-Encoding": "gzip"})
    with serve({"/gz": route}) as base:
        result = fetch(base + "/gz", etag=None, last_modified=None, limits=LIMITS)
    assert result.body == FEED


def test_redirect_is_followed_and_final_url_reported() -> None:
    with serve({"/old": Route(status=301, headers={"Location": "/new"}), "/new": Route(body=FEED)}) as base:
        result = fetch(base + "/old", etag=None, last_modified=None, limits=LIMITS)
    assert result.url == base + "/old" and result.final_url == base + "/new" and result.body == FEED


def test_redirect_loop_and_bad_redirect_scheme_raise() -> None:
    routes = {
        "/loop": Route(status=302, headers={"Location": "/loop"}),
        "/ftp": Route(status=302, headers={"Location": "ftp://example.org/x"}),
    }
    with serve(routes) as base:
        with pytest.raises(FetchError, match="too many redirects"):
            fetch(base + "/loop", etag=None, last_modified=None, limits=LIMITS)
        with pytest.raises(FetchError, match="unsupported URL scheme 'ftp'"):
            fetch(base + "/ftp", etag=None, last_modified=None, limits=LIMITS)
    assert len(routes["/loop"].requests) == LIMITS.max_redirects + 1


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "gopher://x/", "javascript:alert(1)", "feed.xml"])
def test_unsupported_schemes_raise(url: str) -> None:
    with pytest.raises(FetchError, match="unsupported URL scheme"):
        fetch(url, etag=None, last_modified=None, limits=LIMITS)


def test_file_url_reads_file_and_supports_conditional(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    url = path.as_uri()
    first = fetch(url, etag=None, last_modified=None, limits=LIMITS)
    assert first.status == 200 and first.body == FEED and not first.not_modified
    assert first.last_modified == "Tue, 14 Nov 2023 22:13:20 GMT"
    by_date = fetch(url, etag=None, last_modified=first.last_modified, limits=LIMITS)
    by_etag = fetch(url, etag=first.etag, last_modified=None, limits=LIMITS)
    assert by_date.not_modified and by_date.body is None
    assert by_etag.not_modified
    path.write_bytes(FEED + b"\n")
    assert not fetch(url, etag=first.etag, last_modified=None, limits=LIMITS).not_modified


def test_file_url_errors(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="no such file"):
        fetch((tmp_path / "missing.xml").as_uri(), etag=None, last_modified=None, limits=LIMITS)
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * 100_001)
    with pytest.raises(FetchError, match="response larger than 100000 bytes"):
        fetch(big.as_uri(), etag=None, last_modified=None, limits=LIMITS)


def test_429_raises_rate_limited_with_retry_after_seconds() -> None:
    routes = {
        "/seconds": Route(status=429, headers={"Retry-After": "120"}),
        "/bare": Route(status=429),
    }
    with serve(routes) as base:
        with pytest.raises(RateLimited) as info:
            fetch(base + "/seconds", etag=None, last_modified=None, limits=LIMITS)
        assert info.value.status == 429 and info.value.retry_after_s == 120
        assert info.value.reason == "HTTP 429 Too Many Requests; retry after 120s"
        with pytest.raises(RateLimited) as bare:
            fetch(base + "/bare", etag=None, last_modified=None, limits=LIMITS)
        assert bare.value.retry_after_s is None  # the caller's own backoff applies
    assert isinstance(info.value, FetchError)  # callers that only know FetchError still work


def test_503_with_http_date_retry_after_is_rate_limited_without_is_plain() -> None:
    when = email.utils.formatdate(time.time() + 90, usegmt=True)
    routes = {"/dated": Route(status=503, headers={"Retry-After": when}), "/down": Route(status=503)}
    with serve(routes) as base:
        with pytest.raises(RateLimited) as info:
            fetch(base + "/dated", etag=None, last_modified=None, limits=LIMITS)
        assert info.value.status == 503
        assert info.value.retry_after_s is not None and 85 <= info.value.retry_after_s <= 91
        with pytest.raises(FetchError) as plain:
            fetch(base + "/down", etag=None, last_modified=None, limits=LIMITS)
        assert not isinstance(plain.value, RateLimited) and plain.value.status == 503


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("3600", 3600.0),
        (" 5 ", 5.0),
        ("Thu, 01 Jan 1970 00:02:00 GMT", 60.0),  # HTTP-date, 60 s after `now`
        ("Thursday, 01-Jan-70 00:02:00 GMT", 60.0),  # obsolete RFC 850 form
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),  # in the past: now
        ("99999999999", 99999999999.0),  # as asked: the feed state caps it
        ("-5", None),
        ("soon", None),
        ("²", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_parsing(value: str | None, expected: float | None) -> None:
    assert _retry_after_s(value, now=60.0) == expected


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100),
        ("video/mp4", b"\0\0\0\x18ftypmp42"),
        ("application/pdf", b"%PDF-1.7\n"),
        ("audio/mpeg; charset=binary", b"ID3"),
        ("application/zip", b"PK\x03\x04"),
    ],
)
def test_content_types_that_cannot_be_feeds_are_refused(content_type: str, body: bytes) -> None:
    route = Route(body=body, headers={"Content-Type": content_type})
    with serve({"/x": route}) as base, pytest.raises(FetchError) as info:
        fetch(base + "/x", etag=None, last_modified=None, limits=LIMITS)
    assert info.value.reason == f"unexpected content type {content_type.split(';')[0]}"


def test_octet_stream_is_sniffed() -> None:
    routes = {
        "/binary": Route(
            body=b"\x7fELF\x02\x01\x01\0\0\0" * 10, headers={"Content-Type": "application/octet-stream"}
        ),
        "/feed": Route(body=FEED, headers={"Content-Type": "application/octet-stream"}),
        "/utf16": Route(
            body=FEED.decode().encode("utf-16"), headers={"Content-Type": "application/octet-stream"}
        ),
        "/gz": Route(body=gzip.compress(FEED), headers={"Content-Type": "application/octet-stream"}),
    }
    with serve(routes) as base:
        with pytest.raises(FetchError, match=r"unexpected content type application/octet-stream \(binary"):
            fetch(base + "/binary", etag=None, last_modified=None, limits=LIMITS)
        for path in ("/feed", "/utf16", "/gz"):
            assert fetch(base + path, etag=None, last_modified=None, limits=LIMITS).body


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html; charset=utf-8",
        "text/plain",
        "text/xml",
        "application/xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/json",
        "application/feed+json",
        "application/x-gzip",
        "application/x-unknown-thing",
        "",
    ],
)
def test_feed_and_page_content_types_pass(content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with serve({"/x": Route(body=FEED, headers=headers)}) as base:
        assert fetch(base + "/x", etag=None, last_modified=None, limits=LIMITS).body == FEED


def _counting_route(state: dict[str, int], lock: object) -> Route:
    """A slow route that records the most requests it ever had in flight at once."""
    import threading

    assert isinstance(lock, type(threading.Lock()))

    def respond(headers: dict[str, str]) -> Route:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.3)
        with lock:
            state["now"] -= 1
        return Route(body=FEED, headers={"Content-Type": "application/rss+xml"})

    return Route(respond=respond)


def test_requests_to_one_host_are_limited_across_threads() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    state = {"now": 0, "max": 0}
    route = _counting_route(state, threading.Lock())
    limits = FetchSettings(
        connect_timeout=2, read_timeout=2, allowed_networks=(*LOCAL, "::1/128"), per_host=2
    )
    with serve({"/feed.xml": route}) as base:
        port = base.rsplit(":", 1)[1]
        urls = [f"http://127.0.0.1:{port}/feed.xml?{i}" for i in range(6)]
        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(lambda u: fetch(u, etag=None, last_modified=None, limits=limits), urls))
        assert [r.status for r in results] == [200] * 6
        assert state["max"] == 2  # six threads, one host: never more than two at once

        # Another host name (same server) has slots of its own: 127.0.0.1 and localhost, 2 each.
        state["max"] = 0
        urls = [f"http://{h}:{port}/feed.xml?{i}" for i in range(4) for h in ("127.0.0.1", "localhost")]
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda u: fetch(u, etag=None, last_modified=None, limits=limits), urls))
        assert [r.status for r in results] == [200] * 8
        assert state["max"] == 4


def test_host_slot_wait_is_bounded_by_the_total_timeout() -> None:
    import threading

    state = {"now": 0, "max": 0}
    route = _counting_route(state, threading.Lock())
    slow = FetchSettings(connect_timeout=2, read_timeout=2, allowed_networks=LOCAL, per_host=1)
    impatient = FetchSettings(
        connect_timeout=2, read_timeout=2, allowed_networks=LOCAL, per_host=1, total_timeout=0.05
    )
    with serve({"/feed.xml": route}) as base:
        holder = threading.Thread(
            target=fetch,
            args=(base + "/feed.xml",),
            kwargs={"etag": None, "last_modified": None, "limits": slow},
        )
        holder.start()
        time.sleep(0.1)  # the first request holds the host's only slot for 0.3 s
        with pytest.raises(FetchError, match="busy: 1 request"):
            fetch(base + "/feed.xml", etag=None, last_modified=None, limits=impatient)
        holder.join()


def test_dns_lookup_is_bounded_by_the_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolver that never answers (here: a lookup that hangs) costs the connect timeout, not the
    system resolver's own minutes. No network is touched: the name never resolves."""
    import socket

    def hanging_lookup(*args: object, **kwargs: object) -> list:
        time.sleep(3)
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_lookup)
    limits = FetchSettings(connect_timeout=0.3, read_timeout=1, total_timeout=10)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"no DNS answer within 0\.3 s"):
        fetch("http://feeds.example.org/rss", etag=None, last_modified=None, limits=limits)
    assert time.monotonic() - started < 1.5
