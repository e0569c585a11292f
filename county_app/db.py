"""The database object, declared once and bound when the data folder is known.

SQLite runs in WAL mode with foreign keys on and a busy timeout (the
``busy_timeout`` pragma); every transaction begins IMMEDIATE so that two
writers queue instead of failing half way. Nothing here is SQLite-only beyond the pragmas: the county hub will use
PostgreSQL later.
"""
import threading
from pathlib import Path

from peewee import OperationalError
from playhouse.pool import PooledSqliteDatabase

from . import paths

DB_FILENAME = "county_app.sqlite3"

PRAGMAS = (
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    ("busy_timeout", 10000),
    ("synchronous", "full"),
    ("cache_size", -16000),
)

class Database(PooledSqliteDatabase):
    """A small pool of connections, and one writer at a time in this process.

    A request takes a connection and gives it back, so the pragmas, the schema
    parse and the page cache are paid once per connection, not per request.
    Writers of this process queue on a lock before ``BEGIN IMMEDIATE``: SQLite's
    busy handler sleeps up to 100 ms between retries and so wakes long after
    the lock is free (both measured with a million cases: bench/RESULTS.md).
    Other processes (a command run beside ``serve``) still queue in SQLite.
    """

    _writer = threading.Lock()
    _holding = threading.local()

    def begin(self, lock_type=None):
        self._writer.acquire()
        self._holding.lock = True
        try:
            super().begin(lock_type)
        except BaseException:
            self._release()
            raise

    def commit(self):
        try:
            return super().commit()
        finally:
            self._release()

    def rollback(self):
        try:
            return super().rollback()
        finally:
            self._release()

    def _release(self):
        # A failed commit is followed by a rollback: release only once.
        if getattr(self._holding, "lock", False):
            self._holding.lock = False
            self._writer.release()


db = Database(None, lock_type="IMMEDIATE", max_connections=32, stale_timeout=600)


def database_path(data_dir):
    return Path(data_dir) / DB_FILENAME


def bind(data_dir):
    """Point ``db`` at the database file of ``data_dir`` (created empty and private if missing)."""
    paths.private_file(database_path(data_dir))
    if not db.is_closed():
        db.close()
    if db.database is not None:
        db.close_all()  # connections to the previous file must not be handed out again
    db.init(str(database_path(data_dir)), pragmas=PRAGMAS, check_same_thread=False)
    return db


def note_use(write):
    """Run ``write`` (a note of when a token or session was last used) in its own short transaction.

    The only write a read (GET) may cause, at most once a minute per token
    and every five minutes per session. A note that cannot be written now
    (another process holds the database's write lock too long) is skipped:
    it is not worth refusing the request for.
    """
    try:
        with db.atomic():
            write()
    except OperationalError:
        pass
