"""A small exception tree.

Per-item problems (one bad file, one bad feed entry) are *data*: the stage that meets them returns or
records them with a reason and the batch goes on. Per-run problems (no database, bad settings) raise
so that the caller (the CLI or Airflow) stops and retries.
"""


class MonitorError(Exception):
    """Base class for every error the monitor raises on purpose."""


class ConfigError(MonitorError):
    """A setting is missing or invalid; the message names the environment variable."""


class InputError(MonitorError):
    """One input (file, feed, JSON line, page) cannot be used; the message says which and why."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class FetchError(InputError):
    """A URL could not be fetched (timeout, refused, HTTP error status, too large)."""

    def __init__(self, source: str, reason: str, status: int | None = None) -> None:
        super().__init__(source, reason)
        self.status = status


class TaxonomyError(MonitorError):
    """The taxonomy file is invalid; the message names the file and, where known, the line."""


class DatabaseError(MonitorError):
    """The database cannot be reached or migrated."""
