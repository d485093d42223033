"""Opening the state store: engine, SQLite settings, file mode, leases, credentials."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic.util.exc import CommandError
from sqlalchemy import create_engine, delete, event, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from connector.errors import ConfigError
from connector.store import migrate
from connector.store.schema import credentials, leases

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def open_engine(url: str) -> Engine:
    """An engine for ``url``, with SQLite in WAL mode and owner-only file mode."""
    try:
        return _open_engine(url)
    except ConfigError:
        raise
    except (SQLAlchemyError, OSError, ValueError, ImportError, CommandError) as exc:
        reason = getattr(exc, "orig", None) or exc
        raise ConfigError(f"cannot open the state store: {reason}") from None


def _open_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # SQLAlchemy's pysqlite driver defers BEGIN; emit it ourselves so that a
        # write transaction takes the lock at its start (see the SQLAlchemy docs
        # on "Serializable isolation / Savepoints / Transactional DDL").
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    else:
        engine = create_engine(url, pool_pre_ping=True)
    try:
        migrate.upgrade(engine)
    except OperationalError as exc:
        raise ConfigError(f"cannot open the state store: {exc.orig}") from None
    return engine


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory one."""
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path == ":memory:":
        return None
    return Path(path)


def _prepare_sqlite_file(url: str) -> None:
    path = sqlite_path(url)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Created owner-only before SQLite opens it: it holds debtors' data.
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Leases:
    """Locks held in the database, so that they work across processes and hosts.

    A lease has an owner and an expiry; a holder that dies loses it when it
    expires. Acquiring is one atomic statement, on SQLite and PostgreSQL alike.
    """

    def __init__(self, engine: Engine, clock: Clock = utc_now):
        self._engine = engine
        self._clock = clock
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def try_acquire(self, name: str, ttl_s: float, owner: str | None = None) -> bool:
        """Take or renew the lease if it is free, expired or already ``owner``'s.

        ``owner`` defaults to this handle; `hold` passes one of its own, so that
        two threads sharing a store never hold the same lease at once.
        """
        owner = owner or self.owner
        now = self._clock()
        expires = now + timedelta(seconds=ttl_s)
        with self._engine.begin() as conn:
            taken = conn.execute(
                update(leases)
                .where(leases.c.name == name)
                .where((leases.c.expires_at < now) | (leases.c.owner == owner))
                .values(owner=owner, expires_at=expires)
            ).rowcount
            if taken:
                return True
            holder = conn.execute(select(leases.c.owner).where(leases.c.name == name))
            row = holder.first()
            if row is not None and not _owner_is_dead(row.owner):
                return False
            if row is not None:
                # Its holder was a process on this host that no longer exists.
                conn.execute(delete(leases).where(leases.c.name == name))
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(leases).values(name=name, owner=owner, expires_at=expires)
                )
        except IntegrityError:
            return False
        return True

    def release(self, name: str, owner: str | None = None) -> None:
        """Give the lease up if we hold it."""
        with self._engine.begin() as conn:
            conn.execute(
                delete(leases)
                .where(leases.c.name == name)
                .where(leases.c.owner == (owner or self.owner))
            )

    @contextmanager
    def hold(
        self,
        name: str,
        ttl_s: float = 60.0,
        wait_s: float = 30.0,
        *,
        renew: bool = False,
        owner: str | None = None,
    ) -> Iterator[bool]:
        """Hold the lease for the block; wait up to ``wait_s`` for it.

        With ``renew`` a background thread renews it every third of its time to
        live, so a long block keeps it while a dead holder still loses it soon.
        """
        owner = owner or f"{self.owner}:{uuid.uuid4().hex[:8]}"
        deadline = time.monotonic() + wait_s
        while not self.try_acquire(name, ttl_s, owner):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"lease {name!r} is held by another holder")
            time.sleep(0.05)
        stop = threading.Event()
        renewer = None
        if renew:
            renewer = threading.Thread(
                target=self._renew, args=(name, ttl_s, owner, stop), daemon=True
            )
            renewer.start()
        try:
            yield True
        finally:
            stop.set()
            if renewer is not None:
                renewer.join(timeout=5)
            self.release(name, owner)

    def _renew(
        self, name: str, ttl_s: float, owner: str, stop: threading.Event
    ) -> None:
        while not stop.wait(ttl_s / 3):
            try:
                self.try_acquire(name, ttl_s, owner)
            except Exception:  # retried next time; expiry is the backstop
                continue


def _owner_is_dead(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Credentials:
    """OAuth grants of sources, kept in the store so that every process sees one."""

    def __init__(self, engine: Engine, clock: Clock = utc_now):
        self._engine = engine
        self._clock = clock

    def load(self, source: str) -> dict[str, Any] | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(credentials.c.data).where(credentials.c.source == source)
            ).first()
        return None if row is None else dict(row.data)

    def save(self, source: str, data: dict[str, Any]) -> None:
        """Write and commit; returns only once the grant is durable."""
        now = self._clock()
        with self._engine.begin() as conn:
            done = conn.execute(
                update(credentials)
                .where(credentials.c.source == source)
                .values(data=data, updated_at=now)
            ).rowcount
            if not done:
                conn.execute(
                    insert(credentials).values(source=source, data=data, updated_at=now)
                )
