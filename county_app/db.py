"""The database object, declared once and bound when the data folder is known.

SQLite runs in WAL mode with foreign keys on and a busy timeout; every
transaction begins IMMEDIATE so that two writers queue instead of failing half
way. Nothing here is SQLite-only beyond the pragmas: the county hub will use
PostgreSQL later.
"""
from pathlib import Path

from peewee import SqliteDatabase

DB_FILENAME = "county_app.sqlite3"

PRAGMAS = (
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    ("busy_timeout", 10000),
    ("synchronous", "full"),
    ("cache_size", -16000),
)

db = SqliteDatabase(None, lock_type="IMMEDIATE")


def database_path(data_dir):
    return Path(data_dir) / DB_FILENAME


def bind(data_dir):
    """Point ``db`` at the database file of ``data_dir`` (it need not exist yet)."""
    if not db.is_closed():
        db.close()
    db.init(str(database_path(data_dir)), pragmas=PRAGMAS, timeout=10, check_same_thread=False)
    return db
