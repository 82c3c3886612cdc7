"""Registers the monitor's pages (digests, search, stories, trends, feeds) in the Airflow UI. Registration only: the
app itself lives in monitor.web.app."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin


def _dsn() -> str:
    """The monitor database: the `monitor_db` Airflow connection, else the monitor's own settings."""
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    from monitor.orchestration.tasks import MONITOR_DB_CONN_ID, dsn_from_connection

    try:
        return dsn_from_connection(Connection.get_connection_from_secrets(MONITOR_DB_CONN_ID))
    except AirflowNotFoundException:
        # Outside `make up` (which always sets monitor_db): the configured database, else the
        # embedded development server, asked for here at the edge.
        from monitor.dev.embedded import with_database_url
        from monitor.settings import Settings

        url = with_database_url(Settings.from_env()).database_url
        assert url is not None  # with_database_url always sets one
        return url


def _app():  # type: ignore[no-untyped-def]
    from airflow.api_fastapi.core_api.security import get_user

    from monitor.web.app import create_app

    # Airflow's own login guards every page: plugin apps are mounted without it otherwise.
    return create_app(_dsn, get_user)


class SecurityMonitorPlugin(AirflowPlugin):
    name = "security_monitor"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": _app(), "url_prefix": "/security-monitor", "name": "Security monitor"}
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "Security digests",
            "href": "/security-monitor/digests",
            "destination": "nav",
            "url_route": "security-digests",
            "category": "browse",
        },
        {
            "name": "Search articles",
            "href": "/security-monitor/search",
            "destination": "nav",
            "url_route": "security-search",
            "category": "browse",
        },
        {
            "name": "Stories",
            "href": "/security-monitor/stories",
            "destination": "nav",
            "url_route": "security-stories",
            "category": "browse",
        },
        {
            "name": "Trends",
            "href": "/security-monitor/trends",
            "destination": "nav",
            "url_route": "security-trends",
            "category": "browse",
        },
        {
            "name": "Feed health",
            "href": "/security-monitor/feeds",
            "destination": "nav",
            "url_route": "security-feeds",
            "category": "admin",
        },
    ]
