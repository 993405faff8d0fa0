"""Forward-only migrations per service database, recorded with checksums.

A service's migrations are ``NNNN_description.sql`` files in one or more packages
("streams"; the shared outbox tables are a stream of their own), numbered 0001, 0002, ...
without gaps; any other ``.sql`` file in the package is an error, not silently skipped.
Each file runs in its own transaction unless its first line is ``-- wealist:
no-transaction`` (for ``CREATE INDEX CONCURRENTLY``): such a file is split into statements
that run one by one in autocommit mode, so a failure part-way leaves the earlier statements
applied and the file unrecorded; write those statements to be re-runnable (``IF NOT
EXISTS``; drop an invalid index left by a failed ``CONCURRENTLY`` first). Applied files are
recorded in ``wealist_migrations`` with a sha256 of their text; a file edited after it was
applied makes both ``migrate`` and service start-up refuse to continue.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from importlib import resources
from typing import Any

import msgspec
import psycopg
from psycopg import sql as pgsql

__all__ = (
    "Migration",
    "MigrationError",
    "discover",
    "ensure_database",
    "migrate",
    "pending",
    "split_statements",
    "verify",
)

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
NO_TRANSACTION = "-- wealist: no-transaction"
LOCK_KEY = 0x7765616C  # "weal": one migrator at a time per database
# A server that accepts the connection but never answers fails the start instead of
# hanging it (the start guard and `up` then see a failure they can report).
CONNECT_TIMEOUT_S = 10

_TABLE = """
CREATE TABLE IF NOT EXISTS wealist_migrations (
    stream      text        NOT NULL,
    version     integer     NOT NULL,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream, version)
)
"""


class MigrationError(RuntimeError):
    """Migrations cannot be applied, or the database disagrees with the files."""


class Migration(msgspec.Struct, frozen=True):
    stream: str
    version: int
    name: str
    sql: str
    checksum: str

    @property
    def transactional(self) -> bool:
        return not self.sql.lstrip().startswith(NO_TRANSACTION)

    @property
    def label(self) -> str:
        return f"{self.stream}/{self.version:04d}_{self.name}.sql"


def discover(stream: str, package: str) -> list[Migration]:
    """The migrations of one package, in version order; rejects gaps and duplicates.

    A ``.sql`` file whose name is not ``NNNN_lowercase_name.sql`` is rejected too: skipping
    it would silently never apply it.
    """
    found: list[Migration] = []
    for entry in resources.files(package).iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE.match(entry.name)
        if not match:
            raise MigrationError(
                f"{package}/{entry.name}: a migration is named NNNN_lowercase_name.sql"
            )
        text = entry.read_text(encoding="utf-8")
        digest = hashlib.sha256(text.encode()).hexdigest()
        found.append(Migration(stream, int(match.group(1)), match.group(2), text, digest))
    found.sort(key=lambda m: (m.version, m.name))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"{package}: expected migration {expected:04d}, found {migration.label}"
            )
    return found


async def _applied(conn: psycopg.AsyncConnection[Any]) -> dict[tuple[str, int], str]:
    cur = await conn.execute("SELECT to_regclass('wealist_migrations') IS NOT NULL")
    row = await cur.fetchone()
    if not row or not row[0]:
        return {}
    cur = await conn.execute("SELECT stream, version, checksum FROM wealist_migrations")
    return {(s, v): c for s, v, c in await cur.fetchall()}


def _check_edits(migrations: list[Migration], applied: dict[tuple[str, int], str]) -> None:
    for m in migrations:
        recorded = applied.get((m.stream, m.version))
        if recorded is not None and recorded != m.checksum:
            raise MigrationError(
                f"{m.label} was edited after it was applied (recorded sha256 {recorded[:12]}, "
                f"file {m.checksum[:12]}); restore the file and add a new migration instead"
            )


async def pending(url: str, migrations: list[Migration]) -> list[Migration]:
    """Migrations not applied yet; raises if an applied one was edited."""
    async with await psycopg.AsyncConnection.connect(
        url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
    ) as conn:
        applied = await _applied(conn)
    _check_edits(migrations, applied)
    return [m for m in migrations if (m.stream, m.version) not in applied]


async def verify(url: str, migrations: list[Migration]) -> None:
    """Refuse to serve a database that is behind or disagrees with the migration files."""
    todo = await pending(url, migrations)
    if todo:
        names = ", ".join(m.label for m in todo)
        raise MigrationError(f"database is not migrated ({names}); run `wealist migrate`")


async def migrate(url: str, migrations: list[Migration]) -> list[Migration]:
    """Apply what is pending, in order, under an advisory lock. Returns what was applied.

    Concurrent migrators (several pods starting at once) wait for the lock, then see what
    the first one applied: every file is applied exactly once.
    """
    done: list[Migration] = []
    async with await psycopg.AsyncConnection.connect(
        url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
    ) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            await conn.execute(_TABLE)
            applied = await _applied(conn)
            _check_edits(migrations, applied)
            for m in migrations:
                if (m.stream, m.version) in applied:
                    continue
                await _apply(conn, m)
                done.append(m)
        finally:
            # A broken connection has released its session lock already; do not let the
            # unlock's error hide the original one.
            with contextlib.suppress(psycopg.Error):
                await conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    return done


async def _apply(conn: psycopg.AsyncConnection[Any], m: Migration) -> None:
    record = (
        "INSERT INTO wealist_migrations (stream, version, name, checksum) VALUES (%s, %s, %s, %s)"
    )
    params = (m.stream, m.version, m.name, m.checksum)
    try:
        if m.transactional:
            async with conn.transaction():
                # Recorded first, in the same transaction: the file may change search_path.
                await conn.execute(record, params)
                # No parameters: psycopg sends the file as one simple query, statements and
                # all, and leaves ``%`` alone.
                await conn.execute(m.sql)
        else:
            # Several statements in one simple query run as one implicit transaction, which
            # CREATE INDEX CONCURRENTLY refuses: send them one at a time.
            for statement in split_statements(m.sql):
                await conn.execute(statement)
            await conn.execute("RESET ALL")
            await conn.execute(record, params)
    except psycopg.Error as exc:
        raise MigrationError(f"{m.label} failed: {exc}") from exc
    finally:
        # A migration's session-level SET (search_path, timeouts) must not leak into the
        # next one.
        with contextlib.suppress(psycopg.Error):
            await conn.execute("RESET ALL")


_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


def split_statements(text: str) -> list[str]:
    """Split SQL text on top-level semicolons.

    Semicolons inside quoted strings, quoted identifiers, dollar-quoted bodies and comments
    do not split. Statements that are only whitespace and comments are dropped.
    """
    statements: list[str] = []
    start = 0
    i = 0
    n = len(text)
    has_code = False
    while i < n:
        ch = text[i]
        if ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if ch == "/" and text.startswith("/*", i):
            i = _skip_block_comment(text, i)
            continue
        if ch in "'\"":
            escapes = ch == "'" and i > 0 and text[i - 1] in "eE" and not _ident_char(text, i - 2)
            i = _skip_quoted(text, i, ch, backslash=escapes)
            has_code = True
            continue
        if ch == "$" and not _ident_char(text, i - 1):
            tag = _DOLLAR_TAG.match(text, i)
            if tag:
                end = text.find(tag.group(), tag.end())
                i = n if end < 0 else end + len(tag.group())
                has_code = True
                continue
        if ch == ";":
            if has_code:
                statements.append(text[start:i].strip())
            start = i + 1
            has_code = False
        elif not ch.isspace():
            has_code = True
        i += 1
    if has_code:
        statements.append(text[start:].strip())
    return statements


def _ident_char(text: str, i: int) -> bool:
    return i >= 0 and (text[i].isalnum() or text[i] in "_$")


def _skip_quoted(text: str, i: int, quote: str, *, backslash: bool) -> int:
    i += 1
    while i < len(text):
        ch = text[i]
        if backslash and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if text.startswith(quote, i + 1):  # doubled quote: an escaped one
                i += 2
                continue
            return i + 1
        i += 1
    return i


def _skip_block_comment(text: str, i: int) -> int:
    depth = 0
    while i < len(text):
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return i


async def ensure_database(server_url: str, database: str) -> bool:
    """Create ``database`` on the server of ``server_url`` unless it exists. True if created."""
    async with await psycopg.AsyncConnection.connect(
        server_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
    ) as conn:
        cur = await conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        if await cur.fetchone():
            return False
        try:
            await conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(database)))
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            # Created concurrently by another migrator (the loser of that race sees either
            # error, depending on when it looked at pg_database).
            return False
    return True
