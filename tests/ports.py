"""A free TCP port on 127.0.0.1 for a test's own server (SMTP, HTTP, Airflow's api-server)."""

from __future__ import annotations

import socket


def free_port() -> int:
    # Bind to port 0 and let the OS choose; the tiny race until the server binds it is harmless here.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
