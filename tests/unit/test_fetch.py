"""ingest.fetch against a real local HTTP server (tests/httpserver.py) and real files."""

from __future__ import annotations

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
from monitor.ingest.fetch import FetchLimits, fetch  # noqa: E402

LIMITS = FetchLimits(connect_timeout=0.5, read_timeout=0.5, max_bytes=100_000, max_redirects=3)
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
    limits = FetchLimits(connect_timeout=0.5, read_timeout=0.5, max_bytes=100_000, total_timeout=0.6)
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
