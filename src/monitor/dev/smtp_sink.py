"""A local SMTP sink for `make up`: a real SMTP server (aiosmtpd) that accepts every message and
saves it as an .eml file, so digests and alerts can be read without a mail server."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from typing import Any


class _SaveToFolder:
    """aiosmtpd handler: each message's bytes, as received, in `folder`/YYYYmmddTHHMMSS-NNNN.eml."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{next(self.counter):04d}.eml"
        tmp = self.folder / (name + ".part")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(self.folder / name)  # readers never see half a mail
        return "250 Message accepted for delivery"


def serve(port: int, folder: Path, host: str = "127.0.0.1") -> int:
    """Listen on host:port until interrupted (SIGINT; `make down` ends the process group)."""
    from aiosmtpd.controller import Controller  # an [airflow]/[dev] extra, needed only here

    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(_SaveToFolder(folder), hostname=host, port=port)
    controller.start()
    print(f"SMTP sink listening on {host}:{port}, saving to {folder}", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    return 0
