"""Schema migrations: an ordered list of functions inside the package.

Each migration is applied and recorded in one transaction. ``0001`` builds its
tables from the live models; a later migration that alters one of them must
also give ``0001`` a frozen copy of that table's old definition, so that a
database built step by step still ends equal to the models (a test checks).
"""
import sqlite3
from datetime import datetime
from pathlib import Path

from peewee import BooleanField, CharField, DateTimeField, IntegerField

from . import models
from .db import db
from .intake import records


class _User0001(models.BaseModel):
    """``user`` as 0001 built it; 0003 replaced its lockout columns."""

    username = CharField(unique=True, max_length=64)
    display_name = CharField(default="")
    role = CharField(max_length=16)
    department = CharField(null=True)
    phone = CharField(default="")
    password_hash = CharField(null=True)
    failed_logins = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=models.utcnow)

    class Meta:
        table_name = "user"


_ADDED_BY_0003 = (models.LoginSession, models.LoginThrottle)


def _initial(database):
    database.create_tables([_User0001 if model is models.User else model
                            for model in models.MODELS if model not in _ADDED_BY_0003])


def _cases(database):
    # Built from the live case models, like 0001: a later migration that alters
    # one of these tables must give this step a frozen copy of its old definition.
    database.create_tables(records.MODELS)


def _login_sessions(database):
    # Lockouts moved from the user row to login_throttle (per client address and name);
    # one-time passwords are flagged on the user.
    database.execute_sql('ALTER TABLE "user" ADD COLUMN "must_change_password" INTEGER NOT NULL DEFAULT 0')
    database.execute_sql('ALTER TABLE "user" DROP COLUMN "failed_logins"')
    database.execute_sql('ALTER TABLE "user" DROP COLUMN "locked_until"')
    database.create_tables(_ADDED_BY_0003)


MIGRATIONS = [
    ("0001_initial", _initial),
    ("0002_cases", _cases),
    ("0003_login_sessions", _login_sessions),
]


def applied_names():
    if not db.table_exists(models.SchemaMigration._meta.table_name):
        return set()
    return {row.name for row in models.SchemaMigration.select(models.SchemaMigration.name)}


def pending():
    done = applied_names()
    return [(name, step) for name, step in MIGRATIONS if name not in done]


def backup_copy(db_file, label):
    """Copy the database aside with SQLite's online backup (consistent under WAL)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = Path(db_file).with_name(f"{Path(db_file).name}.before-{label}-{stamp}")
    source = sqlite3.connect(db_file)
    try:
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)
        copy.close()
    finally:
        source.close()
    return target


def migrate(db_file):
    """Apply pending migrations; an existing database is first copied aside.

    Returns ``(applied names, backup path or None)``.
    """
    existed = Path(db_file).exists() and Path(db_file).stat().st_size > 0
    with db.connection_context():
        todo = pending()
        had_schema = existed and bool(applied_names())
    if not todo:
        return [], None
    backup = backup_copy(db_file, todo[0][0]) if had_schema else None
    with db.connection_context():
        for name, step in todo:
            with db.atomic():
                step(db)
                models.SchemaMigration.create(name=name)
    return [name for name, _ in todo], backup
