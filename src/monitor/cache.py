"""Built models kept as pickles in MONITOR_CACHE_DIR, so later processes load them instead of
building them again (the gazetteer, the language model).

The file name carries whatever the object is built from (a hash of the data, a package version), so a
change builds anew. The directory is this installation's own files, which is what makes unpickling
safe; anything unreadable there is rebuilt and rewritten, never an error.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def cached_pickle(cache_dir: Path | None, filename: str, build: Callable[[], T], kind: type[T]) -> T:
    """The `kind` object pickled in `cache_dir / filename`, or `build()` (then written there).
    Without a cache directory it is always built."""
    if cache_dir is None:
        return build()
    path = cache_dir / filename
    try:
        with path.open("rb") as f:
            cached = pickle.load(f)
        if isinstance(cached, kind):
            return cached
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass  # missing, stale or unreadable: build it
    built = build()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(built, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)  # atomic: a concurrent reader sees the old file or the whole new one
    except OSError:
        pass  # a read-only home only costs the build time
    return built
