"""Database connection and forward-only migrations.

Only ever connects to a URL it is given: the embedded PostgreSQL for development lives in
monitor.dev.embedded, and an edge (make up, the tests) asks for it explicitly.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import quote

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from monitor.errors import DatabaseError

log = logging.getLogger(__name__)

Connection: TypeAlias = psycopg2.extensions.connection

# Any constant works; it only has to be the same for every process that migrates this database, so
# two `monitor db migrate` (or two Airflow tasks) never apply the same file at once.
_MIGRATION_LOCK = 7_311_042


def with_database(uri: str, database: str) -> str:
    """The same server URI pointing at another database (keeps ?host=… for unix sockets)."""
    base, _, query = uri.partition("?")
    scheme, _, rest = base.partition("://")
    authority = rest.split("/", 1)[0]
    url = f"{scheme}://{authority}/{quote(database)}"
    return f"{url}?{query}" if query else url


def connect(url: str) -> Connection:
    try:
        conn = psycopg2.connect(url, connect_timeout=10, application_name="monitor")
    except psycopg2.OperationalError as exc:
        raise DatabaseError(f"cannot connect to the database: {str(exc).strip()}") from exc
    return conn


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        # COPY's text format: backslash, and the characters that end a field or a row, escaped
        # (four C-level scans; str.translate goes through a dict per character).
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\\\x" + bytes(value).hex()  # bytea's hex form, its backslash escaped for COPY
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def copy_rows(cur: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY `rows` into `table` (names from code, never from input). For batches of hundreds of rows
    the server parses COPY's text far faster than an INSERT with a VALUES list of the same rows."""
    text = "".join("\t".join(map(_copy_field, row)) + "\n" for row in rows)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO(text))


def sibling_connection(conn: Connection) -> Connection:
    """A second connection to the database of `conn`, with its parameters and password."""
    params = conn.get_dsn_parameters()
    password = conn.info.password
    if password:
        params["password"] = password
    return psycopg2.connect(**params)


@contextmanager
def connection(url: str) -> Iterator[Connection]:
    conn = connect(url)
    try:
        yield conn
    finally:
        conn.close()


def _checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


def migrate(conn: Connection, migrations_dir: Path) -> list[str]:
    """Apply the numbered `*.sql` files not yet applied, in order, in one transaction. Returns their names.

    All or nothing: a failing file leaves the database as it was. Forward-only: an applied file whose
    text changed is an error, never silently re-applied.
    """
    files = sorted(migrations_dir.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    if not files:
        raise DatabaseError(f"no migrations found in {migrations_dir}")
    applied: list[str] = []
    with conn:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            cur.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version    text PRIMARY KEY,
                       checksum   text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            cur.execute("SELECT version, checksum FROM schema_migrations")
            done = dict(cur.fetchall())
        for path in files:
            sql = path.read_text(encoding="utf-8")
            if path.name in done:
                if done[path.name] != _checksum(sql):
                    raise DatabaseError(
                        f"migration {path.name} was changed after it was applied; "
                        "add a new numbered migration instead of editing an applied one"
                    )
                continue
            with conn.cursor() as cur:
                try:
                    cur.execute(sql)
                except psycopg2.Error as exc:
                    raise DatabaseError(f"migration {path.name} failed: {str(exc).strip()}") from exc
                cur.execute(
                    "INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                    (path.name, _checksum(sql)),
                )
            applied.append(path.name)
            log.info("applied migration", extra={"migration": path.name})
    return applied


def applied_migrations(conn: Connection) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
        row = cur.fetchone()
        if not row or not row[0]:
            return []
        cur.execute("SELECT version FROM schema_migrations ORDER BY version")
        return [r[0] for r in cur.fetchall()]
