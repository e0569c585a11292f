"""The database object, declared once and bound when the data folder is known.

A township's database is always SQLite, a file in its data folder; a county
hub may instead use PostgreSQL, named by ``DATABASE_URL`` (``--database-url``
sets the same variable, so that child processes see it too). ``db`` is a
proxy that every model is declared with; ``bind`` points it at one of two
databases.

SQLite runs in WAL mode with foreign keys on and a busy timeout (the
``busy_timeout`` pragma); every transaction begins IMMEDIATE so that two
writers queue instead of failing half way. PostgreSQL keeps that rule: every
transaction first takes one transaction-scoped advisory lock, so writers queue
the same way across every process and thread, and a read inside a
transaction sees what the writers before it committed (READ COMMITTED takes
a new snapshot per statement). Moments are ``timestamptz`` there and its
sessions run in UTC, so they come back aware, as SQLite's text gives them.
"""
import os
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from peewee import DatabaseProxy, Node, OperationalError, SchemaManager
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from . import paths

DB_FILENAME = "county_app.sqlite3"
DATABASE_URL_ENV = "DATABASE_URL"

PRAGMAS = (
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    ("busy_timeout", 10000),
    ("synchronous", "full"),
    ("cache_size", -16000),
)

# The key of the advisory lock every PostgreSQL transaction takes first ("county-a" in ASCII).
WRITER_LOCK_KEY = 0x636F756E74792D61


class Database(PooledSqliteDatabase):
    """A small pool of connections, and one writer at a time in this process.

    A request takes a connection and gives it back, so the pragmas, the schema
    parse and the page cache are paid once per connection, not per request.
    Writers of this process queue on a lock before ``BEGIN IMMEDIATE``: SQLite's
    busy handler sleeps up to 100 ms between retries and so wakes long after
    the lock is free (both measured with a million cases: bench/RESULTS.md).
    Other processes (a command run beside ``serve``) still queue in SQLite.
    """

    dialect = "sqlite"
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


class PostgresDatabase(PooledPostgresqlDatabase):
    """A county hub's PostgreSQL (psycopg2), one writer at a time like SQLite (module docstring)."""

    dialect = "postgresql"
    # Moments are stored as the UTC moments they are, and read back aware, as SQLite's text gives them.
    field_types = {**PooledPostgresqlDatabase.field_types, "DATETIME": "TIMESTAMPTZ"}

    def get_context_options(self):
        return {**super().get_context_options(), "dialect": self.dialect}

    def begin(self, isolation_level=None):
        super().begin(isolation_level)
        with self.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK_KEY,))


class _Proxy(DatabaseProxy):
    __slots__ = ("obj", "_callbacks", "_Model", "data_dir")

    @property
    def dialect(self):
        return self.obj.dialect if self.obj is not None else "sqlite"


db = _Proxy()
_sqlite = Database(None, lock_type="IMMEDIATE", max_connections=32, stale_timeout=600)
_postgres = PostgresDatabase(None, max_connections=32, stale_timeout=600)
db.initialize(_sqlite)
db.data_dir = None


class BooleanDefault(Node):
    """A boolean column's default in SQL: ``DEFAULT 1``/``0`` on SQLite (as its tables were always made),
    ``DEFAULT TRUE``/``FALSE`` on PostgreSQL, which refuses an integer default for a boolean."""

    def __init__(self, value):
        super().__init__()
        self.value = bool(value)

    def __sql__(self, ctx):
        if ctx.state.dialect == "postgresql":
            return ctx.literal("DEFAULT TRUE" if self.value else "DEFAULT FALSE")
        return ctx.literal("DEFAULT 1" if self.value else "DEFAULT 0")


class PortableSchemaManager(SchemaManager):
    """Creates a ``without_rowid`` table (a SQLite storage choice) as a plain table on PostgreSQL."""

    _lock = threading.Lock()

    def _create_table(self, safe=True, **options):
        meta = self.model._meta
        if not (meta.without_rowid and getattr(self.database, "dialect", None) == "postgresql"):
            return super()._create_table(safe, **options)
        with self._lock:
            meta.without_rowid = False
            try:
                return super()._create_table(safe, **options)
            finally:
                meta.without_rowid = True


def database_path(data_dir):
    return Path(data_dir) / DB_FILENAME


def database_url():
    """The PostgreSQL URL this process was given (``DATABASE_URL``), or None for SQLite."""
    return os.environ.get(DATABASE_URL_ENV) or None


def postgres_database_name(url):
    """The database named by a PostgreSQL URL; DatabaseUrlError (in Chinese) for anything else."""
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if parts.scheme not in ("postgresql", "postgres") or not name:
        raise DatabaseUrlError(f"{DATABASE_URL_ENV} 应形如 postgresql://用户名:密码@主机:端口/数据库名"
                               "（本机套接字：postgresql:///数据库名?host=/var/run/postgresql）")
    return name


class DatabaseUrlError(ValueError):
    """DATABASE_URL is not a PostgreSQL URL (message in Chinese)."""


def is_postgresql():
    """Whether ``db`` is bound to PostgreSQL."""
    return db.obj is _postgres


def bind(data_dir):
    """Point ``db`` at the database of ``data_dir``: PostgreSQL when DATABASE_URL is set, else the folder's
    SQLite file (created empty and private if missing). Scans and backups stay in the data folder either way."""
    url = database_url()
    for database in (_sqlite, _postgres):
        if database.database is not None:
            if not database.is_closed():
                database.close()
            database.close_all()  # connections to the previous database must not be handed out again
    if url:
        _postgres.init(postgres_database_name(url), dsn=url, connect_timeout=10, options="-c TimeZone=UTC")
        db.initialize(_postgres)
    else:
        paths.private_file(database_path(data_dir))
        _sqlite.init(str(database_path(data_dir)), pragmas=PRAGMAS, check_same_thread=False)
        db.initialize(_sqlite)
    db.data_dir = Path(data_dir).resolve()
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


def refresh_statistics(*models):
    """On PostgreSQL, ANALYZE the tables of ``models`` now. After a night's backlog (100,000 events in a few
    seconds) their statistics still describe the empty tables until autovacuum's next round, and the planner
    joins them row by row: the hub's reconciliation took 16 s instead of 0.5 (bench/RESULTS.md). SQLite
    keeps no such statistics here: nothing to do."""
    if db.dialect == "postgresql":
        db.execute_sql("ANALYZE " + ", ".join(f'"{model._meta.table_name}"' for model in models))

