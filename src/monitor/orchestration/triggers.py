"""An event trigger that starts the inbox DAG when files are dropped into the inbox.

It runs in the Airflow triggerer (so it must be importable from the installed package). Airflow's
`FileDeleteTrigger` would delete what it finds, which would lose articles; this trigger instead
*claims* each new file by an atomic rename into `inbox/claimed/` and yields an event naming the
claimed files. The inbox task ingests `claimed/` (and the inbox itself), so a file is never lost even
if the DAG run fails: it stays in `claimed/` until a run has stored it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from monitor.settings import INBOX_CLAIMED as CLAIMED


def claim_new_files(inbox: Path, seen_sizes: dict[str, int]) -> list[str]:
    """Rename files whose size did not change since the last scan into inbox/claimed/; return names.

    A file still being written (size growing between two scans) waits for the next scan. Hidden and
    temporary names (".part", "~") wait for their final name. `seen_sizes` carries sizes across scans.
    """
    claimed_dir = inbox / CLAIMED
    names: list[str] = []
    current: dict[str, int] = {}
    try:
        entries = list(os.scandir(inbox))
    except FileNotFoundError:
        return []
    for entry in entries:
        if not entry.is_file() or entry.name.startswith((".", "~")) or entry.name.endswith(".part"):
            continue
        size = entry.stat().st_size
        current[entry.name] = size
        if seen_sizes.get(entry.name) != size:
            continue  # first sighting or still growing: look again next scan
        claimed_dir.mkdir(exist_ok=True)
        target = claimed_dir / entry.name
        n = 1
        while target.exists():
            target = claimed_dir / f"{Path(entry.name).stem}.{n}{Path(entry.name).suffix}"
            n += 1
        try:
            os.rename(entry.path, target)  # atomic within one file system: claimed exactly once
        except FileNotFoundError:
            continue  # someone else (a manual `monitor ingest`) took it first
        names.append(target.name)
        current.pop(entry.name, None)
    seen_sizes.clear()
    seen_sizes.update(current)
    return sorted(names)


class InboxTrigger(BaseEventTrigger):
    """Fires whenever new, completely written files appear in `inbox`; claims them first."""

    def __init__(self, inbox: str, poke_interval: float = 2.0) -> None:
        super().__init__()
        self.inbox = inbox
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "monitor.orchestration.triggers.InboxTrigger",
            {"inbox": self.inbox, "poke_interval": self.poke_interval},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        inbox = Path(self.inbox)
        seen: dict[str, int] = {}
        while True:
            names = await asyncio.to_thread(claim_new_files, inbox, seen)
            if names:
                self.log.info("claimed %d inbox file(s): %s", len(names), ", ".join(names))
                yield TriggerEvent({"inbox": self.inbox, "claimed": names})
            await asyncio.sleep(self.poke_interval)
