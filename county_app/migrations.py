"""Schema migrations: an ordered list of functions inside the package.

Each migration is applied and recorded in one transaction. ``0001`` builds its
tables from the live models; a later migration that alters one of them must
also give ``0001`` a frozen copy of that table's old definition, so that a
database built step by step still ends equal to the models (a test checks).
"""
import sqlite3
from datetime import datetime
from pathlib import Path

from . import models, paths
from .db import db
from .intake import records


def _initial(database):
    database.create_tables(models.MODELS)


def _cases(database):
    # Built from the live case models, like 0001: a later migration that alters
    # one of these tables must give this step a frozen copy of its old definition.
    database.create_tables(records.MODELS)


MIGRATIONS = [
    ("0001_initial", _initial),
    ("0002_cases", _cases),
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
        copy = sqlite3.connect(paths.private_file(target))
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
