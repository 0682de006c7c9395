"""A FakeFlattr's state in an SQLite file, so a sandbox survives a restart.

The layer is small on purpose: one :class:`Table` per entity (its name, its
columns, and how a record becomes a row), one connection that holds the
file's lock for as long as the fake runs, and numbered migrations.

How the file is opened (:class:`StateFile`):

- ``locking_mode=EXCLUSIVE`` and an immediate ``BEGIN EXCLUSIVE``: the lock is
  SQLite's own, on the file itself, taken before anything is read and held
  until :meth:`StateFile.close`. A second fake on the same file, in this
  process or another, is refused at once (:class:`StateInUseError`); a process
  that dies (even by ``kill -9``) lets go of it with its file descriptors.
- Nothing is written until the file is known to be a FakeFlattr state file of
  a version this code can read (``PRAGMA application_id`` and
  ``PRAGMA user_version``), or an empty file to start from. Anything else is
  refused and left as it was, byte for byte (:class:`StateFileError`,
  :class:`StateVersionError`).
- Then ``journal_mode=WAL`` and ``synchronous=NORMAL``: each change is one
  short transaction appended to the write-ahead log, without an ``fsync``.
  A process killed at any point loses nothing that was committed; a power
  cut or an operating-system crash may lose the last moments (the file stays
  consistent either way).

To persist another kind of record:

1. append a migration to :data:`MIGRATIONS` that creates its table (the
   schema version is the number of migrations; older files are brought up
   to date when opened, newer ones refused);
2. declare its :class:`Table` (usually :meth:`Table.of_attributes`, the
   columns named after the record's attributes) and pass it through
   :func:`register`, so that opening a file checks the table has exactly
   those columns;
3. in each method that changes such a record, call
   :meth:`flattr.testing._store.Store.save` (a no-op without a state file)
   before changing memory, and rebuild the records from
   :meth:`flattr.testing._store.Store.saved_rows` when the store is created.
"""

from __future__ import annotations

import json
import operator
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "TABLES",
    "StateError",
    "StateFile",
    "StateFileError",
    "StateInUseError",
    "StateVersionError",
    "Table",
    "decode_list",
    "encode_list",
    "register",
]

#: ``PRAGMA application_id`` of every state file: "FLTR" in ASCII. It tells
#: our files from other SQLite databases before anything is written.
APPLICATION_ID = 0x464C5452

R = TypeVar("R")

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


class StateError(RuntimeError):
    """FakeFlattr cannot use its state file (``state=`` / ``flattr sandbox --state``).

    The message says what is wrong and what to do. The file is never reset
    or overwritten to get past the problem.

    :param path: the state file.
    :param message: what went wrong and what to do, path included.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        """The state file, as given."""


class StateInUseError(StateError):
    """Another FakeFlattr (in this process or another) has the state file open."""


class StateFileError(StateError):
    """The file is not a FakeFlattr state file, or is damaged, or cannot be read or written."""


class StateVersionError(StateError):
    """The file was written by a newer flattr, with a schema this one does not know."""

    def __init__(self, path: str, message: str, found: int) -> None:
        super().__init__(path, message)
        self.found = found
        """The file's schema version (``PRAGMA user_version``)."""


@dataclass(frozen=True, slots=True)
class Table(Generic[R]):
    """One entity's table.

    :param name: the table's name.
    :param columns: its columns, in the order ``to_row`` gives them, the
        primary key first.
    :param to_row: a record's values for ``columns``, as SQLite stores them.
    :param keys: how many leading columns make up the primary key.
    """

    name: str
    columns: tuple[str, ...]
    to_row: Callable[[R], tuple[object, ...]]
    keys: int = 1

    def __post_init__(self) -> None:
        # Names are spliced into SQL text; keep them plain identifiers.
        for name in (self.name, *self.columns):
            if not _IDENTIFIER.fullmatch(name):
                raise ValueError(f"{name!r} is not a plain SQL identifier")
        if not 1 <= self.keys <= len(self.columns):
            raise ValueError("keys must be between 1 and the number of columns")

    @classmethod
    def of_attributes(
        cls,
        name: str,
        columns: str | tuple[str, ...],
        *,
        keys: int = 1,
        convert: Mapping[str, Callable[[R], object]] | None = None,
    ) -> Table[R]:
        """A table whose columns are the record's attributes of the same names.

        :param name: the table's name.
        :param columns: attribute names, the primary key first (a tuple, or
            one string with the names separated by spaces).
        :param keys: how many leading columns make up the primary key.
        :param convert: for a column that is not a plain attribute (or not
            stored as it is), how to get its value from a record.
        :returns: the table.
        """
        if isinstance(columns, str):
            columns = tuple(columns.split())
        special = dict(convert or {})
        getters = tuple(special.get(c) or operator.attrgetter(c) for c in columns)

        def to_row(record: R) -> tuple[object, ...]:
            return tuple(get(record) for get in getters)

        return cls(name, columns, to_row, keys)

    @property
    def upsert_sql(self) -> str:
        """``INSERT ... ON CONFLICT DO UPDATE``: an update keeps the row's place (its rowid)."""
        names = ", ".join(self.columns)
        marks = ", ".join("?" * len(self.columns))
        key = ", ".join(self.columns[: self.keys])
        updates = ", ".join(f"{c} = excluded.{c}" for c in self.columns[self.keys :])
        action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        insert = f"INSERT INTO {self.name} ({names}) VALUES ({marks})"  # noqa: S608 - identifiers checked
        return f"{insert} ON CONFLICT ({key}) {action}"

    @property
    def delete_sql(self) -> str:
        """``DELETE`` of one row by its key columns."""
        where = " AND ".join(f"{c} = ?" for c in self.columns[: self.keys])
        return f"DELETE FROM {self.name} WHERE {where}"  # noqa: S608 - identifiers checked

    @property
    def select_sql(self) -> str:
        """Every row, oldest first."""
        columns = ", ".join(self.columns)
        return f"SELECT {columns} FROM {self.name} ORDER BY rowid"  # noqa: S608 - identifiers checked


def encode_list(values: tuple[str, ...]) -> str:
    """A tuple of strings as one column (JSON, so any character survives).

    :param values: tags, scopes, ...
    :returns: a JSON array.
    """
    return json.dumps(list(values), ensure_ascii=False)


def decode_list(text: str) -> tuple[str, ...]:
    """The inverse of :func:`encode_list`.

    :param text: a JSON array of strings.
    :returns: the strings.
    :raises ValueError: ``text`` is not a JSON array of strings.
    """
    values = json.loads(text)
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError("not a list of strings")
    return tuple(values)


#: Schema migrations; ``MIGRATIONS[n]`` takes a file from version ``n`` to
#: ``n + 1``. Never edit one that has shipped: append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE consumers (
        key TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        name TEXT NOT NULL
    );
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        firstname TEXT NOT NULL,
        lastname TEXT NOT NULL,
        city TEXT NOT NULL,
        country TEXT NOT NULL,
        email TEXT NOT NULL,
        description TEXT NOT NULL,
        language TEXT NOT NULL,
        active INTEGER NOT NULL
    );
    CREATE TABLE things (
        id TEXT PRIMARY KEY,
        int_id INTEGER NOT NULL UNIQUE,
        owner_id INTEGER NOT NULL REFERENCES users (id),
        url TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        category TEXT NOT NULL,
        language TEXT NOT NULL,
        tags TEXT NOT NULL,
        hidden INTEGER NOT NULL,
        clicks INTEGER NOT NULL,
        created INTEGER NOT NULL
    );
    CREATE TABLE clicks (
        thing_id TEXT NOT NULL REFERENCES things (id),
        user_id INTEGER NOT NULL REFERENCES users (id),
        PRIMARY KEY (thing_id, user_id)
    );
    CREATE TABLE request_tokens (
        key TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        consumer_key TEXT NOT NULL,
        callback TEXT NOT NULL,
        state TEXT NOT NULL,
        verifier TEXT NOT NULL,
        user_id INTEGER,
        scopes TEXT NOT NULL,
        form_key TEXT NOT NULL
    );
    CREATE TABLE access_tokens (
        key TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        consumer_key TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        scopes TEXT NOT NULL,
        revoked INTEGER NOT NULL
    );
    """,
)

#: The schema version this code writes (``PRAGMA user_version``).
SCHEMA_VERSION = len(MIGRATIONS)

#: Every table a current file has, by name, with its columns in order; filled
#: by the modules that declare them (:func:`register`).
TABLES: dict[str, tuple[str, ...]] = {}


def register(table: Table[R]) -> Table[R]:
    """Add ``table`` to :data:`TABLES`, so opening a file checks it is there.

    :param table: a table a migration creates.
    :returns: ``table``.
    :raises ValueError: another table of that name was registered with other columns.
    """
    known = TABLES.setdefault(table.name, table.columns)
    if known != table.columns:
        raise ValueError(f"table {table.name!r} registered twice with different columns")
    return table


class StateFile:
    """An open, locked state file.

    One connection, used under a lock, serves every thread of the fake.

    :param path: the file; created (mode ``0600``: it holds secrets) when missing.
    :raises StateInUseError: another FakeFlattr has it open.
    :raises StateVersionError: it was written by a newer flattr.
    :raises StateFileError: it is not a FakeFlattr state file, is damaged, or
        cannot be opened.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        self._depth = 0
        #: Whether the file held a schema when it was opened (``False``: a new file).
        self.existed = False
        #: Whether :meth:`close` was called.
        self.closed = False
        self._conn = self._open()

    def __repr__(self) -> str:
        return f"<StateFile {self.path!r}>"

    # -- opening ------------------------------------------------------------

    def damaged(self, what: str, exc: BaseException | None = None) -> StateFileError:
        """The error for a file that cannot be used as it is.

        :param what: what is wrong with it.
        :param exc: the underlying error, if any (its text is added).
        :returns: a :class:`StateFileError` saying so and what to do.
        """
        detail = f" ({exc})" if exc is not None else ""
        return StateFileError(
            self.path,
            f"{self.path}: {what}{detail}. The file was left as it is: use another state "
            "file (a missing one is created), or move this one away if it is not needed",
        )

    def _open(self) -> sqlite3.Connection:
        target = Path(self.path)
        if target.is_dir():
            raise self.damaged("this is a directory, not a state file")
        if not target.exists():
            try:
                os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass  # someone made it meanwhile: the lock below decides
            except OSError as exc:
                raise StateFileError(
                    self.path,
                    f"{self.path}: cannot create the state file ({exc.strerror or exc}); "
                    "check that its folder exists and is writable, or use another path",
                ) from None
        try:
            # timeout=0: a file another fake holds is refused now, not after a wait.
            conn = sqlite3.connect(
                self.path, timeout=0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self.damaged("cannot open the state file", exc) from None
        try:
            self._prepare(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorname in ("SQLITE_BUSY", "SQLITE_LOCKED"):
                raise StateInUseError(
                    self.path,
                    f"{self.path}: another FakeFlattr (a `flattr sandbox --state` or a test) "
                    "has this state file open. Stop that one first, or use another state file",
                ) from None
            raise self.damaged("cannot lock the state file", exc) from None
        except sqlite3.DatabaseError as exc:
            raise self.damaged("not a FakeFlattr state file: not an SQLite database", exc) from None
        try:
            self._check_and_migrate(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            # Only now, with the file known to be ours: WAL changes its header.
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise self.damaged("cannot switch the state file to WAL mode", exc) from None
        if mode is None or str(mode[0]).lower() != "wal":
            raise self.damaged(f"cannot switch the state file to WAL mode (it stays {mode})")

    def _check_and_migrate(self, conn: sqlite3.Connection) -> None:
        try:
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            names = {
                str(row[0])
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if names:
                check = conn.execute("PRAGMA quick_check").fetchall()
                if check != [("ok",)]:
                    raise self.damaged(f"the state file is damaged: {check[0][0]}")
        except sqlite3.DatabaseError as exc:
            raise self.damaged("not a FakeFlattr state file, or damaged", exc) from None
        if app_id == 0 and version == 0 and not names:
            pass  # an empty database (a new or zero-byte file): ours to fill
        elif app_id != APPLICATION_ID:
            raise self.damaged("not a FakeFlattr state file: another application's SQLite database")
        elif version > SCHEMA_VERSION:
            raise StateVersionError(
                self.path,
                f"{self.path}: this state file was written by a newer flattr (state schema "
                f"{version}; this one knows up to {SCHEMA_VERSION}). The file was left as it is: "
                "upgrade flattr to use it, or use another state file",
                version,
            )
        else:
            self.existed = version > 0
        try:
            for number in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[number]):
                    conn.execute(statement)
            if version < SCHEMA_VERSION:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            for name, columns in TABLES.items():
                found = tuple(str(r[1]) for r in conn.execute(f"PRAGMA table_info({name})"))
                if found != columns:
                    raise self.damaged(
                        f"the state file is damaged: table {name!r} has columns {found}, "
                        f"expected {columns}"
                    )
        except sqlite3.Error as exc:
            raise self.damaged("the state file is damaged", exc) from None

    # -- reading and writing ------------------------------------------------

    def rows(self, table: Table[Any]) -> list[tuple[Any, ...]]:
        """Every row of ``table``, oldest first.

        :raises StateFileError: the file cannot be read.
        """
        with self._lock:
            self._check_open()
            try:
                return self._conn.execute(table.select_sql).fetchall()
            except sqlite3.Error as exc:
                raise self.damaged(f"cannot read table {table.name!r}", exc) from None

    def put(self, table: Table[R], record: R) -> None:
        """Insert ``record``, or update its row (matched by the key column).

        Outside :meth:`transaction` it is committed at once.

        :raises StateFileError: the write failed (disk full, file gone, ...).
        """
        row = table.to_row(record)
        with self._lock:
            self._check_open()
            try:
                self._conn.execute(table.upsert_sql, row)
            except sqlite3.Error as exc:
                raise self._write_failed(exc) from None

    def delete(self, table: Table[R], record: R) -> None:
        """Delete ``record``'s row (matched by the key columns), if there is one.

        Outside :meth:`transaction` it is committed at once.

        :raises StateFileError: the write failed.
        """
        key = table.to_row(record)[: table.keys]
        with self._lock:
            self._check_open()
            try:
                self._conn.execute(table.delete_sql, key)
            except sqlite3.Error as exc:
                raise self._write_failed(exc) from None

    def _check_open(self) -> None:
        if self.closed:
            raise StateFileError(
                self.path,
                f"{self.path}: the state file was closed when its FakeFlattr stopped; "
                "make a new FakeFlattr on it to carry on",
            )

    def _write_failed(self, exc: sqlite3.Error) -> StateFileError:
        return StateFileError(
            self.path,
            f"{self.path}: cannot write to the state file ({exc}); the change was not made",
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several :meth:`put` calls into one commit (nested calls join the outer one).

        :raises StateFileError: the commit failed; nothing of it was kept.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._check_open()
            self._depth = 1
            try:
                self._conn.execute("BEGIN")
                yield
                self._conn.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._write_failed(exc) from None
                raise
            finally:
                self._depth = 0

    def close(self) -> None:
        """Checkpoint the log into the file, close it and let go of the lock (idempotent)."""
        with self._lock:
            self.closed = True
            self._conn.close()


def _statements(script: str) -> Iterator[str]:
    """The statements of a migration, one by one (``executescript`` would COMMIT)."""
    for part in script.split(";"):
        if part.strip():
            yield part.strip()
