"""Schema migrations: an ordered list of functions inside the package.

Each migration is applied and recorded in one transaction. ``0001`` builds its
tables from the live models; a later migration that alters one of them must
also give ``0001`` a frozen copy of that table's old definition, so that a
database built step by step still ends equal to the models (a test checks).
"""
import sqlite3
from datetime import datetime
from pathlib import Path

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from . import models, paths
from .db import db
from .intake import namesearch, numbers, records


class _User0001(models.BaseModel):
    """``user`` as 0001 built it; 0005 replaced its lockout columns."""

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


class _Material0001(models.BaseModel):
    """``material`` as 0001 built it; 0006 added its 适用条件 column."""

    # backref "+": a frozen copy must not add attributes to the live models
    catalogue = ForeignKeyField(models.CatalogueVersion, backref="+", on_delete="CASCADE")
    matter = ForeignKeyField(models.MatterRow, backref="+", on_delete="CASCADE")
    code = CharField()
    name = CharField()
    form = CharField()
    copies = IntegerField()
    medium = CharField()
    source = CharField()
    necessity = CharField()
    waiver = CharField(null=True)
    instructions = TextField(default="")
    position = IntegerField(default=0)

    class Meta:
        table_name = "material"
        indexes = ((("catalogue", "code"), False),)


class _Case0002(models.BaseModel):
    """``case_record`` as 0002 built it; 0007 added the agent's phone and the reversed number."""

    case_no = CharField(max_length=32, unique=True)
    catalogue = ForeignKeyField(models.CatalogueVersion, backref="+", on_delete="RESTRICT")
    bundle_code = CharField(max_length=40, null=True)
    bundle_name = CharField(default="")
    status = CharField(max_length=16, index=True)
    version = IntegerField(default=1)
    applicant_kind = CharField(max_length=8)
    applicant_name = CharField(max_length=200, index=True)
    id_number = CharField(max_length=18, null=True, index=True)
    credit_code = CharField(max_length=18, null=True, index=True)
    legal_representative = CharField(default="")
    phone = CharField(max_length=11, index=True)
    address = TextField(default="")
    agent = TextField(default="")
    answers = TextField(default="{}")
    form = TextField(default="{}")
    id_fields = TextField(default="[]")
    registered_at = DateTimeField(default=models.utcnow)
    registered_on = DateField(index=True)
    registered_by = CharField()
    accepted_on = DateField(null=True)
    due_date = DateField(null=True, index=True)
    due_complete = BooleanField(default=True)
    correction_count = IntegerField(default=0)
    rejected_reason = TextField(default="")
    concluded_at = DateTimeField(null=True)
    delivered_at = DateTimeField(null=True)
    delivery_method = CharField(max_length=8, null=True)
    tracking_no = CharField(default="")

    class Meta:
        table_name = "case_record"


_ADDED_BY_0005 = (models.LoginSession, models.LoginThrottle)
_FROZEN_0001 = {models.User: _User0001, models.MaterialRow: _Material0001}


def _initial(database):
    database.create_tables([_FROZEN_0001.get(model, model)
                            for model in models.MODELS if model not in _ADDED_BY_0005])


def _cases(database):
    # Built from the live case models, like 0001: a later migration that alters
    # one of these tables must give this step a frozen copy of its old definition.
    database.create_tables([_Case0002 if model is records.Case else model for model in records.MODELS
                            if model not in (records.CaseItem, records.CaseNameGram)])
    for statement in _CASE_ITEM_0002:
        database.execute_sql(statement)


# case_item as 0002 created it (0003 replaced its index on department).
_CASE_ITEM_0002 = (
    'CREATE TABLE "case_item" ("id" INTEGER NOT NULL PRIMARY KEY, "case_id" INTEGER NOT NULL, '
    '"matter_id" INTEGER NOT NULL, "matter_code" VARCHAR(40) NOT NULL, "name" VARCHAR(255) NOT NULL, '
    '"department" VARCHAR(255) NOT NULL, "handling" VARCHAR(16) NOT NULL, "statutory_days" INTEGER NOT NULL, '
    '"promised_days" INTEGER NOT NULL, "position" INTEGER NOT NULL, "status" VARCHAR(16) NOT NULL, '
    '"due_date" DATE, "suspended_since" DATE, "suspended_days" INTEGER NOT NULL, '
    '"result_no" VARCHAR(255) NOT NULL, "result_note" TEXT NOT NULL, "result_at" DATETIME, '
    '"result_by" VARCHAR(255) NOT NULL, '
    'FOREIGN KEY ("case_id") REFERENCES "case_record" ("id") ON DELETE CASCADE, '
    'FOREIGN KEY ("matter_id") REFERENCES "matter" ("id") ON DELETE RESTRICT)',
    'CREATE INDEX "case_item_case_id" ON "case_item" ("case_id")',
    'CREATE INDEX "case_item_matter_id" ON "case_item" ("matter_id")',
    'CREATE INDEX "case_item_department" ON "case_item" ("department")',
    'CREATE UNIQUE INDEX "case_item_case_id_matter_code" ON "case_item" ("case_id", "matter_code")',
    'CREATE INDEX "case_item_status_due_date" ON "case_item" ("status", "due_date")',
)


def _department_index(database):
    # A department user's lists walk (department, case_id) backwards, and every read of one case
    # checks the pair; the index on department alone served neither and is a prefix of this one.
    database.execute_sql('DROP INDEX "case_item_department"')
    database.execute_sql('CREATE INDEX "case_item_department_case_id" ON "case_item" ("department", "case_id")')


def _receipts(database):
    # The 收件回执 is now issued at registration (a GET of its page must not write). Cases
    # registered before get theirs as if issued then, numbered after their other notices.
    database.execute_sql(
        'INSERT INTO "case_notice" ("case_id", "kind", "number", "issued_at", "issued_on", "issued_by", '
        '"deadline", "content") '
        'SELECT c."id", \'receipt\', c."case_no" || \'-\' || printf(\'%02d\', '
        '(SELECT COUNT(*) FROM "case_notice" n WHERE n."case_id" = c."id") + 1), '
        'c."registered_at", c."registered_on", c."registered_by", NULL, \'{}\' '
        'FROM "case_record" c WHERE NOT EXISTS '
        '(SELECT 1 FROM "case_notice" r WHERE r."case_id" = c."id" AND r."kind" = \'receipt\')')


def _login_sessions(database):
    # Lockouts moved from the user row to login_throttle (per client address and name);
    # one-time passwords are flagged on the user.
    database.execute_sql('ALTER TABLE "user" ADD COLUMN "must_change_password" INTEGER NOT NULL DEFAULT 0')
    database.execute_sql('ALTER TABLE "user" DROP COLUMN "failed_logins"')
    database.execute_sql('ALTER TABLE "user" DROP COLUMN "locked_until"')
    database.create_tables(_ADDED_BY_0005)


def _material_conditions(database):
    # A material may now be asked only under a condition (材料 适用条件); rows already imported
    # were always asked, which the empty condition says.
    database.execute_sql('ALTER TABLE "material" ADD COLUMN "condition" TEXT NOT NULL DEFAULT \'\'')


def _case_search(database):
    # Searches by the agent's phone, the last digits of the case number and any part of a name
    # (lists.py, namesearch.py): two indexed columns and the bigram table, built for the cases
    # registered before; the bigrams also find a name by its first character, as the index on
    # the applicant's name did. The bigrams go through a temporary table and are inserted sorted: in
    # key order the table is written page after page instead of all over the file.
    database.execute_sql('ALTER TABLE "case_record" ADD COLUMN "agent_phone" VARCHAR(11) NOT NULL DEFAULT \'\'')
    database.execute_sql('ALTER TABLE "case_record" ADD COLUMN "case_no_reversed" VARCHAR(32) NOT NULL '
                         'DEFAULT \'\'')
    database.execute_sql('CREATE TEMP TABLE "grams_0007" ("gram" TEXT NOT NULL, "case_id" INTEGER NOT NULL)')
    reader = database.connection().cursor()  # a cursor of its own: the writes below must not reset it
    reader.execute('SELECT "id", "case_no", "applicant_name", "agent" FROM "case_record"')
    writer = database.connection().cursor()
    while True:
        rows = reader.fetchmany(5000)
        if not rows:
            break
        writer.executemany('UPDATE "case_record" SET "agent_phone" = ?, "case_no_reversed" = ? WHERE "id" = ?',
                           [(namesearch.agent_phone(agent), numbers.reversed_number(case_no), case_id)
                            for case_id, case_no, _name, agent in rows])
        writer.executemany('INSERT INTO "grams_0007" VALUES (?, ?)',
                           [(gram, case_id) for case_id, _no, name, agent in rows
                            for gram in namesearch.case_grams(name, namesearch.agent_name(agent))])
    database.create_tables([records.CaseNameGram])
    database.execute_sql('INSERT INTO "case_name_gram" ("gram", "case_id") '
                         'SELECT DISTINCT "gram", "case_id" FROM "grams_0007" ORDER BY "gram", "case_id"')
    database.execute_sql('DROP TABLE "grams_0007"')
    database.execute_sql('CREATE INDEX "case_record_agent_phone" ON "case_record" ("agent_phone")')
    database.execute_sql('CREATE INDEX "case_record_case_no_reversed" ON "case_record" ("case_no_reversed")')
    database.execute_sql('DROP INDEX "case_record_applicant_name"')  # a name's start is a bigram now


MIGRATIONS = [
    ("0001_initial", _initial),
    ("0002_cases", _cases),
    ("0003_case_item_department_index", _department_index),
    ("0004_receipt_at_registration", _receipts),
    ("0005_login_sessions", _login_sessions),
    ("0006_material_conditions", _material_conditions),
    ("0007_case_search", _case_search),
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
