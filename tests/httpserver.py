"""A real local HTTP server for tests: fixture feeds and pages, misbehaving servers, no network.

    from httpserver import Route, serve

    feed = Route(body=b"<rss .../>", headers={"ETag": '"v1"'})
    with serve({"/feed.xml": feed}) as base_url:
        fetch(base_url + "/feed.xml", ...)
    assert feed.requests[0]["user-agent"].startswith("security-media-monitor")

A route either answers with fixed values (status, headers, body, delays) or computes the answer
with `respond(request_headers) -> Route`, e.g. a 304 when If-None-Match matches. Every request's
headers (lower-case names) are recorded in `route.requests`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds before the status line (a slow server)
    chunk_delay: float = 0.0  # seconds between body chunks (a dripping server)
    chunk_size: int = 16 * 1024
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    respond: Callable[[dict[str, str]], Route] | None = None
    requests: list[dict[str, str]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, Route]
    protocol_version = "HTTP/1.0"  # one request per connection: simple and close-delimited bodies

    def do_GET(self) -> None:
        route = self.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self.send_error(404, "Not Found")
            return
        request_headers = {name.lower(): value for name, value in self.headers.items()}
        route.requests.append(request_headers)
        answer = route.respond(request_headers) if route.respond else route
        if answer.delay:
            time.sleep(answer.delay)
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.send_length and answer.status != 304:
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if answer.status == 304:
                return
            for start in range(0, len(answer.body), answer.chunk_size):
                self.wfile.write(answer.body[start : start + answer.chunk_size])
                self.wfile.flush()
                if answer.chunk_delay:
                    time.sleep(answer.chunk_delay)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout, size cap): exactly what some tests provoke

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


@contextlib.contextmanager
def serve(routes: dict[str, Route]) -> Iterator[str]:
    """Serve `routes` (path -> Route) on 127.0.0.1 at a free port; yield the base URL."""
    handler = type("Handler", (_Handler,), {"routes": routes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.block_on_close = False  # do not wait for a deliberately slow handler at shutdown
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
