"""Schema migrations: an ordered list of functions inside the package.

Each migration is applied and recorded in one transaction. ``0001`` builds its
tables from the live models; a later migration that alters one of them must
also give ``0001`` a frozen copy of that table's old definition, so that a
database built step by step still ends equal to the models (a test checks).

Every step runs on SQLite (a township, or a hub) and on PostgreSQL (a hub
given ``DATABASE_URL``): tables built from models are portable as peewee
writes them; SQL written by hand goes through ``_ddl`` (SQLite's spelling of
an id column and a moment, translated), a boolean column is added with
``_boolean``, and a step that needs SQLite's own functions gives PostgreSQL
its own statement. Placeholders are ``database.param``, never a literal
``?``. A PostgreSQL database starts empty at 0001, so a step that fills a
column for rows registered before it has nothing to fill there.
"""
from pathlib import Path

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from . import models
from .db import db, is_postgresql
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
    """``case_record`` as 0002 built it; 0008 added ``concluded_on``, 0011 the agent's phone and the reversed number."""

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


class _CaseEvent0002(models.BaseModel):
    """``case_event`` as 0002 built it; 0009 added its request key."""

    case = ForeignKeyField(records.Case, backref="+", on_delete="CASCADE")
    at = DateTimeField(default=models.utcnow)
    actor = CharField()
    action = CharField(max_length=32)
    from_status = CharField(max_length=16, default="")
    to_status = CharField(max_length=16)
    detail = TextField(default="")

    class Meta:
        table_name = "case_event"


def _cases(database):
    # Built from the live case models, like 0001: a later migration that alters
    # one of these tables must give this step a frozen copy of its old definition.
    # Tables whose keys point at those written by hand come after them (PostgreSQL checks a key's table).
    frozen = {records.Case: _Case0002, records.CaseEvent: _CaseEvent0002}
    built = [frozen.get(model, model) for model in records.MODELS
             if model not in (*_FROZEN_0002, records.IntakeDraft, records.CaseNameGram)]
    after = (records.Suspension, records.MaterialScan)
    database.create_tables([model for model in built if model not in after])
    for statement in _CASE_ITEM_0002 + _ALTERED_BY_0007:
        database.execute_sql(_ddl(database, statement))
    database.create_tables([model for model in built if model in after])


def _ddl(database, statement):
    """A CREATE TABLE written as SQLite spells it, as PostgreSQL spells it when ``database`` is PostgreSQL:
    an id column is a SERIAL there, and a moment a TIMESTAMPTZ (as db.PostgresDatabase makes them)."""
    if database.dialect != "postgresql":
        return statement
    return (statement.replace('"id" INTEGER NOT NULL PRIMARY KEY', '"id" SERIAL NOT NULL PRIMARY KEY')
            .replace(" DATETIME", " TIMESTAMPTZ"))


def _boolean(database, default):
    """The type of a boolean column added with ALTER TABLE: an integer on SQLite (as peewee makes one)."""
    if database.dialect == "postgresql":
        return f"BOOLEAN NOT NULL DEFAULT {'TRUE' if default else 'FALSE'}"
    return f"INTEGER NOT NULL DEFAULT {1 if default else 0}"


_FROZEN_0002 = (records.CaseItem, records.CaseMaterial, records.Rectification)

# case_material and rectification as 0002 created them (0007 added their calendar flags and a paper's situation).
_ALTERED_BY_0007 = (
    'CREATE TABLE "case_material" ("id" INTEGER NOT NULL PRIMARY KEY, "case_id" INTEGER NOT NULL, '
    '"code" VARCHAR(40) NOT NULL, "name" VARCHAR(255) NOT NULL, "necessity" VARCHAR(16) NOT NULL, '
    '"form" VARCHAR(24) NOT NULL, "copies" INTEGER NOT NULL, "waiver" VARCHAR(16), "instructions" TEXT NOT NULL, '
    '"matters" TEXT NOT NULL, "position" INTEGER NOT NULL, "status" VARCHAR(20) NOT NULL, "trust_level" VARCHAR(1), '
    '"copies_received" INTEGER, "pages" INTEGER, "licence_no" VARCHAR(255) NOT NULL, "note" TEXT NOT NULL, '
    '"deferred_until" DATE, "logged_at" DATETIME, "logged_by" VARCHAR(255) NOT NULL, '
    'FOREIGN KEY ("case_id") REFERENCES "case_record" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "case_material_case_id" ON "case_material" ("case_id")',
    'CREATE UNIQUE INDEX "case_material_case_id_code" ON "case_material" ("case_id", "code")',
    'CREATE TABLE "rectification" ("id" INTEGER NOT NULL PRIMARY KEY, "case_id" INTEGER NOT NULL, '
    '"evaluation_id" INTEGER NOT NULL, "opened_at" DATETIME NOT NULL, "opened_on" DATE NOT NULL, '
    '"due_date" DATE NOT NULL, "status" VARCHAR(8) NOT NULL, "closed_at" DATETIME, "closed_by" VARCHAR(255) NOT NULL, '
    '"resolution" TEXT NOT NULL, FOREIGN KEY ("case_id") REFERENCES "case_record" ("id") ON DELETE CASCADE, '
    'FOREIGN KEY ("evaluation_id") REFERENCES "case_evaluation" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "rectification_case_id" ON "rectification" ("case_id")',
    'CREATE UNIQUE INDEX "rectification_evaluation_id" ON "rectification" ("evaluation_id")',
    'CREATE INDEX "rectification_status_due_date" ON "rectification" ("status", "due_date")',
)


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
    if database.dialect == "postgresql":
        return  # a PostgreSQL database is new at 0001: no case was registered before this step
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
    database.execute_sql(f'ALTER TABLE "user" ADD COLUMN "must_change_password" {_boolean(database, False)}')
    database.execute_sql('ALTER TABLE "user" DROP COLUMN "failed_logins"')
    database.execute_sql('ALTER TABLE "user" DROP COLUMN "locked_until"')
    database.create_tables(_ADDED_BY_0005)


def _material_conditions(database):
    # A material may now be asked only under a condition (材料 适用条件); rows already imported
    # were always asked, which the empty condition says.
    database.execute_sql('ALTER TABLE "material" ADD COLUMN "condition" TEXT NOT NULL DEFAULT \'\'')


def _calendar_flags(database):
    # Every date counted in working days is flagged when a year on the way had no published 调休,
    # as the case's due date already was; dates counted before are taken as complete.
    for table, column in (("case_item", "due_complete"), ("case_material", "deferred_complete"),
                          ("rectification", "due_complete")):
        database.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {_boolean(database, True)}')
    # A single matter's paper asked only in some situation is kept, with that situation in words.
    database.execute_sql('ALTER TABLE "case_material" ADD COLUMN "condition" TEXT NOT NULL DEFAULT \'\'')


def _concluded_on(database):
    # The 改革成效 report compares the day a case was concluded with its due date, in SQL; the
    # moment is stored in UTC, the day is the centre's, so cases concluded before get theirs
    # from the moment in this PC's time zone (the zone record_result uses).
    database.execute_sql('ALTER TABLE "case_record" ADD COLUMN "concluded_on" DATE')
    if database.dialect == "postgresql":
        return  # a PostgreSQL database is new at 0001: no case was concluded before this step
    database.execute_sql('UPDATE "case_record" SET "concluded_on" = date("concluded_at", \'localtime\') '
                         'WHERE "concluded_at" IS NOT NULL')


def _request_keys(database):
    # A write may carry the client's key for the request, so that the same request sent twice
    # (a double click, a retry) is answered from the first instead of being refused as stale.
    database.execute_sql('ALTER TABLE "case_event" ADD COLUMN "request_key" VARCHAR(64)')
    database.execute_sql('CREATE UNIQUE INDEX "case_event_request_key" ON "case_event" ("request_key")')


def _intake_drafts(database):
    # A refused 登记 keeps what was typed on the server and redirects to a GET of it, so that
    # reloading the page does not post the old values again (redirect-after-post).
    database.create_tables([records.IntakeDraft])


def _case_search(database):
    # Searches by the agent's phone, the last digits of the case number and any part of a name
    # (lists.py, namesearch.py): two indexed columns and the bigram table, built for the cases
    # registered before; the bigrams also find a name by its first character, as the index on
    # the applicant's name did. The bigrams go through a temporary table and are inserted sorted: in
    # key order the table is written page after page instead of all over the file.
    database.execute_sql('ALTER TABLE "case_record" ADD COLUMN "agent_phone" VARCHAR(11) NOT NULL DEFAULT \'\'')
    database.execute_sql('ALTER TABLE "case_record" ADD COLUMN "case_no_reversed" VARCHAR(32) NOT NULL '
                         'DEFAULT \'\'')
    database.execute_sql('CREATE TEMP TABLE "grams_0011" ("gram" TEXT NOT NULL, "case_id" INTEGER NOT NULL)')
    p = database.param
    reader = database.connection().cursor()  # a cursor of its own: the writes below must not reset it
    reader.execute('SELECT "id", "case_no", "applicant_name", "agent" FROM "case_record"')
    writer = database.connection().cursor()
    while True:
        rows = reader.fetchmany(5000)
        if not rows:
            break
        writer.executemany(f'UPDATE "case_record" SET "agent_phone" = {p}, "case_no_reversed" = {p} WHERE "id" = {p}',
                           [(namesearch.agent_phone(agent), numbers.reversed_number(case_no), case_id)
                            for case_id, case_no, _name, agent in rows])
        writer.executemany(f'INSERT INTO "grams_0011" VALUES ({p}, {p})',
                           [(gram, case_id) for case_id, _no, name, agent in rows
                            for gram in namesearch.case_grams(name, namesearch.agent_name(agent))])
    database.create_tables([records.CaseNameGram])
    database.execute_sql('INSERT INTO "case_name_gram" ("gram", "case_id") '
                         'SELECT DISTINCT "gram", "case_id" FROM "grams_0011" ORDER BY "gram", "case_id"')
    database.execute_sql('DROP TABLE "grams_0011"')
    database.execute_sql('CREATE INDEX "case_record_agent_phone" ON "case_record" ("agent_phone")')
    database.execute_sql('CREATE INDEX "case_record_case_no_reversed" ON "case_record" ("case_no_reversed")')
    database.execute_sql('DROP INDEX "case_record_applicant_name"')  # a name's start is a bigram now


class _SyncRun0012(models.BaseModel):
    """``sync_run`` as 0012 built it; 0014 added the kind of its error."""

    started_at = DateTimeField(default=models.utcnow)
    ended_at = DateTimeField(null=True)
    actor = CharField(default="")
    pushed = IntegerField(default=0)
    pulled = IntegerField(default=0)
    catalogue = CharField(default="")
    conflicts = IntegerField(default=0)
    error = TextField(default="")

    class Meta:
        table_name = "sync_run"


class _SyncConflict0012(models.BaseModel):
    """``sync_conflict`` as 0012 built it; 0014 added the value chosen to stand."""

    case_no = CharField(max_length=32, index=True)
    matter_code = CharField(max_length=40)
    action = CharField(max_length=32)
    local = TextField()
    incoming = TextField()
    found_at = DateTimeField(default=models.utcnow)
    resolved_at = DateTimeField(null=True)
    resolved_by = CharField(default="")

    class Meta:
        table_name = "sync_conflict"


def _sync_outbox_and_nodes(database):
    # The exchange with the county hub (sync/): nodes, outbox, marks, nonces, runs, conflicts.
    from .sync import records as sync_records

    database.create_tables([sync_records.SyncNode, sync_records.SyncOutbox, sync_records.SyncMark,
                            sync_records.SyncNonce, _SyncRun0012, _SyncConflict0012])
    # The changes made before there was an outbox go up too: they are queued once every step has run
    # (``_after_steps``), by the code of the day, in the same transaction. Here only their extent is noted.
    database.execute_sql(f"INSERT INTO sync_mark (name, value) SELECT '{HISTORY_MARK}', MAX(id) FROM case_event "
                         "HAVING MAX(id) IS NOT NULL")


def _sync_scans(database):
    # Scans go up with their case (sync/scanupload.py, scanstore.py): the files waiting to cross.
    from .sync import records as sync_records

    database.create_tables([sync_records.SyncScan])


def _sync_status(database):
    # The sync pages (views/sync.py): a run's kind of error says what to do, a conflict keeps the
    # value an administrator chose, and the hub keeps the latest refusals of each township.
    from .sync import records as sync_records

    database.execute_sql('ALTER TABLE "sync_run" ADD COLUMN "error_kind" VARCHAR(32) NOT NULL DEFAULT \'\'')
    database.execute_sql('ALTER TABLE "sync_conflict" ADD COLUMN "chosen" VARCHAR(16) NOT NULL DEFAULT \'\'')
    database.create_tables([sync_records.SyncRefusal])


def _sync_reconciliation(database):
    # Reconciliation (sync/reconcile.py, hub/reconciliation.py): the hub keeps each township's figures of a
    # day beside its own, a run says how its reconciliation went, and events are found by their moment.
    from .sync import records as sync_records

    database.execute_sql('ALTER TABLE "sync_run" ADD COLUMN "reconcile" TEXT NOT NULL DEFAULT \'\'')
    database.execute_sql('CREATE INDEX "case_event_at" ON "case_event" ("at")')
    database.create_tables([sync_records.SyncReconciliation])


def _sync_run_scans(database):
    # The township's list of runs counts the scans each run sent (views/sync.py).
    for column in ("scans", "scan_bytes"):
        database.execute_sql(f'ALTER TABLE "sync_run" ADD COLUMN "{column}" INTEGER NOT NULL DEFAULT 0')


HISTORY_MARK = "up.history"  # sync_mark: the newest event made before the outbox, until queued

MIGRATIONS = [
    ("0001_initial", _initial),
    ("0002_cases", _cases),
    ("0003_case_item_department_index", _department_index),
    ("0004_receipt_at_registration", _receipts),
    ("0005_login_sessions", _login_sessions),
    ("0006_material_conditions", _material_conditions),
    ("0007_calendar_flags_and_situations", _calendar_flags),
    ("0008_case_concluded_on", _concluded_on),
    ("0009_case_event_request_key", _request_keys),
    ("0010_intake_drafts", _intake_drafts),
    ("0011_case_search", _case_search),
    ("0012_sync_outbox_and_nodes", _sync_outbox_and_nodes),
    ("0013_sync_scans", _sync_scans),
    ("0014_sync_status", _sync_status),
    ("0015_sync_reconciliation", _sync_reconciliation),
    ("0016_sync_run_scans", _sync_run_scans),
]


def applied_names():
    if not db.table_exists(models.SchemaMigration._meta.table_name):
        return set()
    return {row.name for row in models.SchemaMigration.select(models.SchemaMigration.name)}


def pending():
    done = applied_names()
    return [(name, step) for name, step in MIGRATIONS if name not in done]


def migrate(db_file, *, backup=True):
    """Apply pending migrations, all of them in one transaction; an existing database is backed up first.

    The backup is a full one, verified in full before anything is migrated
    (operations/backup.py and verification.py: the database and its scans,
    labelled ``before-<first pending migration>``) in the
    backup folder, or in ``<data>/backups`` when that folder cannot be
    written (a USB disk not plugged in); when no backup can be taken at all,
    nothing is migrated. The pending migrations are applied and recorded in
    ONE transaction, so a failing one leaves the database as it was, earlier
    pending steps included (SQLite's schema changes are transactional; a
    future step that must rebuild a table uses ``PRAGMA defer_foreign_keys``,
    which works inside a transaction). ``backup=False`` skips the backup for
    a database that is itself a copy (a restore's staging copy).

    On PostgreSQL (``db_file`` is then None) nothing is backed up here: a
    hub's administrator takes a ``pg_dump`` before upgrading (README); the
    steps still run in one transaction, PostgreSQL's schema changes being
    transactional too.

    Returns ``(applied names, backup path or None)``.
    """
    existed = is_postgresql() or (Path(db_file).exists() and Path(db_file).stat().st_size > 0)
    with db.connection_context():
        todo = pending()
        had_schema = existed and bool(applied_names())
    if not todo:
        return [], None
    backup_path = None
    if had_schema and backup and not is_postgresql():
        backup_path = _backup_before(Path(db_file).parent, todo[0][0])
    with db.connection_context():
        try:
            with db.atomic():
                for name, step in todo:
                    with db.atomic():
                        step(db)
                        models.SchemaMigration.create(name=name)
                name = "把升级前的办件变更排入同步队列"  # named in the message, should it fail
                _after_steps()
        except Exception as exc:
            kept = f"；升级前的备份：{backup_path}" if backup_path else ""
            raise MigrationFailed(f"数据库升级失败（{name}：{exc}），数据库保持升级前的状态{kept}") from exc
    return [name for name, _ in todo], backup_path


def _after_steps():
    """What needs the schema of the day after the steps: a township's changes made before 0012 (a version
    without the exchange) are queued for the hub, oldest first, ahead of any later change."""
    from .sync import outbox

    outbox.queue_history(HISTORY_MARK)


def _backup_before(data_dir, name):
    from .operations import verification
    from .operations.backup import BackupError, backup_folder, take_backup

    try:
        path = take_backup(data_dir, label=f"before-{name}").path
    except BackupError as exc:
        fallback = backup_folder(data_dir)
        try:
            path = take_backup(data_dir, label=f"before-{name}", folder=fallback).path
        except BackupError:
            raise MigrationRefused(f"升级数据库（{name}）前须先备份，但备份失败：{exc}；数据库未做任何更改") from None
    verdict = verification.verify(path)  # an upgrade is rare: the backup it may be undone with is checked in full
    if not verdict.ok:
        raise MigrationRefused(f"升级数据库（{name}）前的备份 {path} 未通过校验：{verdict.problem}。"
                               "当前数据库可能已损坏，数据库未做任何更改；请联系技术人员")
    return path


class MigrationFailed(RuntimeError):
    """A migration failed and everything pending was rolled back (message in Chinese)."""


class MigrationRefused(Exception):
    """No backup could be taken before migrating: nothing was changed (message in Chinese)."""
