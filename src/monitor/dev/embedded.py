# TEMPORARY shim until the dev tooling branch lands (replaced by it).
from dataclasses import replace

from monitor.settings import Settings
from monitor.store.db import embedded_server_uri, ensure_database, resolve_database_url, stop_embedded_server

__all__ = ["embedded_server_uri", "ensure_database", "stop_embedded_server", "with_database_url"]


def with_database_url(settings: Settings) -> Settings:
    if settings.database_url:
        return settings
    return replace(settings, database_url=resolve_database_url(settings))
