"""The SSRF guard of ingest.fetch: every request and redirect hop reaches public addresses only.

The network is never reached: refused destinations fail before any socket is opened, the allowed
ones are the local test server, and name resolution is replaced where a test needs a name.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from httpserver import Route, serve  # noqa: E402
from monitor.errors import FetchError  # noqa: E402
from monitor.ingest import fetch as fetch_module  # noqa: E402
from monitor.ingest.fetch import fetch  # noqa: E402
from monitor.settings import FetchSettings  # noqa: E402

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
GUARDED = FetchSettings(connect_timeout=0.5, read_timeout=0.5, max_bytes=100_000, max_redirects=3)
LOCAL = FetchSettings(
    connect_timeout=0.5, read_timeout=0.5, max_redirects=3, allowed_networks=("127.0.0.0/8",)
)
HINT = "(set MONITOR_FETCH_ALLOW_NETWORKS to allow)"


def _get(url: str, limits: FetchSettings = GUARDED, **kwargs: Any) -> Any:
    return fetch(url, etag=None, last_modified=None, limits=limits, **kwargs)


def test_local_server_is_refused_by_default_before_any_request() -> None:
    route = Route(body=FEED)
    with serve({"/feed.xml": route}) as base, pytest.raises(FetchError) as info:
        _get(base + "/feed.xml")
    assert info.value.reason == f"refused: 127.0.0.1 is a loopback address {HINT}"
    assert str(info.value).startswith(base + "/feed.xml: ")
    assert route.requests == []  # refused at connect time: the server never saw a request


def test_local_server_is_allowed_by_allowed_networks() -> None:
    with serve({"/feed.xml": Route(body=FEED)}) as base:
        assert _get(base + "/feed.xml", LOCAL).body == FEED
        narrow = FetchSettings(allowed_networks=("127.0.0.1/32",))
        assert _get(base + "/feed.xml", narrow).body == FEED


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://10.1.2.3/admin", "10.1.2.3 is a private address"),
        ("http://localhost/", "is a loopback address"),  # 127.0.0.1/32 allowed, ::1 is not
        ("http://[::ffff:169.254.169.254]/", "::ffff:a9fe:a9fe (169.254.169.254) is a link-local address"),
    ],
)
def test_redirect_from_allowed_host_to_forbidden_address_is_refused(target: str, shown: str) -> None:
    narrow = FetchSettings(connect_timeout=0.5, read_timeout=0.5, allowed_networks=("127.0.0.1/32",))
    route = Route(status=302, headers={"Location": target})
    with serve({"/go": route}) as base, pytest.raises(FetchError) as info:
        _get(base + "/go", narrow)
    assert info.value.reason.startswith("refused: ")
    assert shown in info.value.reason
    assert info.value.reason.endswith(f"{HINT} (redirected to {target})")
    assert len(route.requests) == 1


def test_relative_redirect_on_an_allowed_host_is_followed() -> None:
    routes = {"/old": Route(status=301, headers={"Location": "/new"}), "/new": Route(body=FEED)}
    with serve(routes) as base:
        assert _get(base + "/old", LOCAL).final_url == base + "/new"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://2130706433/", "loopback"),  # 127.0.0.1 as one decimal number
        ("http://0x7f.1/", "loopback"),  # hex and short form
        ("http://017700000001/", "loopback"),  # octal
        ("http://127.1/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped IPv6
        ("http://[::ffff:7f00:1]/", "loopback"),
        ("http://[::127.0.0.1]/", "loopback"),  # deprecated IPv4-compatible IPv6
        ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64 prefix
        ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 prefix
        ("http://localhost./", "loopback"),  # trailing dot: not resolved by glibc, loopback by RFC 6761
        ("http://LOCALHOST/", "loopback"),
        ("http://feeds.localhost/", "loopback"),
        ("http://[::1]:8080/", "loopback"),
        ("https://127.0.0.1/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
        ("http://[fe80::1]/", "link-local"),
        ("http://10.0.0.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://[fc00::1]/", "private"),
        ("http://[fd12:3456::1]/", "private"),
        ("http://100.64.0.1/", "shared (CGNAT)"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://240.0.0.1/", "private"),  # reserved 240/4: Python counts it as private too
        ("http://198.18.0.1/", "private"),  # benchmarking range
    ],
)
def test_non_public_url_forms_are_refused_without_network(url: str, kind: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        _get(url)
    assert info.value.reason.startswith("refused: ")
    article = "an" if kind[0] in "aeiou" else "a"
    assert info.value.reason.endswith(f" is {article} {kind} address {HINT}")
    assert time.monotonic() - started < 1


def test_allowed_networks_cover_mapped_forms_of_allowed_ipv4() -> None:
    allowed = (ipaddress.ip_network("127.0.0.0/8"),)
    assert fetch_module._refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allowed) is None
    assert fetch_module._refusal(ipaddress.ip_address("10.0.0.1"), allowed) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass_the_policy(address: str) -> None:
    assert fetch_module._refusal(ipaddress.ip_address(address), ()) is None


def _fake_resolver(answers: dict[str, list[str]], calls: list[str]) -> Any:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        try:  # socket.create_connection resolves the pinned IP literal too: pass it through
            literal = ipaddress.ip_address(host)
        except ValueError:
            calls.append(host)
        else:
            family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (host, port))]
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    return getaddrinfo


def test_unresolvable_host_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", _fake_resolver({}, []))
    with pytest.raises(FetchError) as info:
        _get("http://no-such-host.invalid/feed.xml")
    assert info.value.reason.startswith("cannot resolve host 'no-such-host.invalid': ")
    assert "Name or service not known" in info.value.reason


def test_name_resolving_to_public_and_private_addresses_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    answers = {"mixed.example": ["93.184.216.34", "10.0.0.7"]}
    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", _fake_resolver(answers, calls))
    with pytest.raises(FetchError, match=r"refused: 10\.0\.0\.7 is a private address"):
        _get("http://mixed.example/feed.xml")


def test_resolved_address_is_pinned_and_host_header_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """One lookup per connection, the socket goes to that address, the request keeps the name."""
    route = Route(body=FEED)
    calls: list[str] = []
    with serve({"/feed.xml": route}) as base:
        port = base.rsplit(":", 1)[1]
        monkeypatch.setattr(
            fetch_module.socket, "getaddrinfo", _fake_resolver({"feeds.example": ["127.0.0.1"]}, calls)
        )
        result = _get(f"http://feeds.example:{port}/feed.xml", LOCAL)
        with pytest.raises(FetchError, match="loopback"):
            _get(f"http://feeds.example:{port}/feed.xml")  # the same name, not allowed: refused
    assert result.body == FEED
    assert route.requests[0]["host"] == f"feeds.example:{port}"
    assert calls == ["feeds.example", "feeds.example"]  # once per fetch, nothing between check and use
    assert len(route.requests) == 1


def test_unguarded_client_is_still_checked_after_connecting() -> None:
    """A caller-supplied client without the guard: the live peer address is checked before the body."""
    with serve({"/feed.xml": Route(body=FEED)}) as base, httpx.Client() as plain:
        with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.1 is a loopback address"):
            _get(base + "/feed.xml", client=plain)
        assert _get(base + "/feed.xml", LOCAL, client=plain).body == FEED


def test_file_urls_stay_allowed(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    assert _get(path.as_uri()).body == FEED
