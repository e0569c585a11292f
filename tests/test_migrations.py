"""Migrations: the step-by-step schema equals the models; init is idempotent and backs up first."""
import sqlite3

import pytest

from county_app import migrations, models
from county_app.intake import records
from county_app.sync import records as sync_records
from county_app.bootstrap import initialise
from county_app.db import bind, database_path, db
from county_app.operations import archive as backup_archive

ALL_MODELS = models.MODELS + records.MODELS + sync_records.MODELS


def schema(path):
    """Tables with their columns, indexes and foreign keys, as comparable data."""
    con = sqlite3.connect(path)
    try:
        tables = sorted(r[0] for r in con.execute(
            "select name from sqlite_master where type='table' and name not like 'sqlite_%'"))
        out = {}
        for table in tables:
            columns = [tuple(r[1:]) for r in con.execute(f'pragma table_info("{table}")')]
            indexes = sorted((r[1], r[2], tuple(c[2] for c in con.execute(f'pragma index_info("{r[1]}")')))
                             for r in con.execute(f'pragma index_list("{table}")'))
            keys = sorted(tuple(r[2:]) for r in con.execute(f'pragma foreign_key_list("{table}")'))
            out[table] = (columns, indexes, keys)
        return out
    finally:
        con.close()


def test_migrated_schema_equals_models(tmp_path):
    stepwise, direct = tmp_path / "a", tmp_path / "b"
    stepwise.mkdir(), direct.mkdir()
    bind(stepwise)
    migrations.migrate(database_path(stepwise))
    bind(direct)
    with db.connection_context():
        db.create_tables(ALL_MODELS)
    migrated, expected = schema(database_path(stepwise)), schema(database_path(direct))
    expected.pop("schema_migration"), migrated.pop("schema_migration")
    assert migrated == expected
    assert set(migrated) == {m._meta.table_name for m in ALL_MODELS} - {"schema_migration"}


def test_init_is_idempotent(data_dir):
    first = initialise(data_dir, load_seed=False)
    assert first.applied == [name for name, _ in migrations.MIGRATIONS]
    assert first.admin_password
    second = initialise(data_dir, load_seed=False)
    assert second.applied == [] and second.backup is None and second.admin_password is None


def test_pending_migration_backs_the_database_up_first(data_dir, monkeypatch, tmp_path):
    initialise(data_dir, load_seed=False)

    def add_note_table(database):
        database.execute_sql("create table note (id integer primary key, body text)")

    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + [("0099_note", add_note_table)])
    report = initialise(data_dir, load_seed=False)
    assert report.applied == ["0099_note"]
    assert report.backup.parent == data_dir / "backups" and report.backup.name.endswith("-before-0099_note.zip")
    with backup_archive.open_checked(report.backup) as checked:  # a full backup (test_backups.py checks the format)
        backup_archive.extract_checked(checked, "county_app.sqlite3", tmp_path / "county_app.sqlite3")
    backed_up = schema(tmp_path / "county_app.sqlite3")
    assert "note" not in backed_up and "user" in backed_up
    assert "note" in schema(database_path(data_dir))


def test_a_migration_is_refused_when_its_backup_fails_the_full_check(data_dir, monkeypatch):
    initialise(data_dir, load_seed=False)
    db.close_all()
    live = database_path(data_dir)
    con = sqlite3.connect(live)
    con.execute("pragma wal_checkpoint(truncate)")
    (number,) = con.execute("select pageno from dbstat where name = 'audit_log_at' and ncell > 0").fetchone()
    page = con.execute("pragma page_size").fetchone()[0]
    con.close()
    data = bytearray(live.read_bytes())
    start = (number - 1) * page
    data[start + 8: start + 200] = b"\xff" * 192  # an index page damaged: the backup copies it as it is
    live.write_bytes(bytes(data))
    before = schema(live)
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + [("0099_note", lambda database: None)])
    with pytest.raises(migrations.MigrationRefused, match="未通过校验.*integrity_check"):
        initialise(data_dir, load_seed=False)
    con = sqlite3.connect(live)
    assert "0099_note" not in {row[0] for row in con.execute("select name from schema_migration")}
    con.close()
    assert schema(live) == before


def test_failing_migration_changes_nothing(data_dir, monkeypatch):
    initialise(data_dir, load_seed=False)
    before = schema(database_path(data_dir))

    def broken(database):
        database.execute_sql("create table half_done (id integer primary key)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + [("0099_broken", broken)])
    with pytest.raises(RuntimeError):
        initialise(data_dir, load_seed=False)
    assert schema(database_path(data_dir)) == before
    bind(data_dir)
    with db.connection_context():
        assert "0099_broken" not in migrations.applied_names()


def test_cases_from_before_0003_get_the_department_index_and_their_receipt(data_dir, monkeypatch):
    """Before 0004 a 收件回执 was issued when its page was first opened; since, at registration."""
    from county_app.intake import cases, workflow
    from county_app.intake.records import Case, Notice

    from test_cases_domain import CENTRE, newborn

    later = ("0003_case_item_department_index", "0004_receipt_at_registration")
    monkeypatch.setattr(migrations, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] not in later])
    initialise(data_dir, code=CENTRE)
    with db.connection_context():
        old = [cases.register_case(**newborn(), actor="li") for _ in range(3)]
        never_printed, printed, rejected = (case.case_no for case in old)
        # as the old code left them: no receipt unless it was printed, numbers in order of issue
        Notice.delete().where(Notice.case.in_([old[0].id, old[2].id])).execute()
        with pytest.raises(Exception):
            workflow.accept_case(never_printed, actor="li")  # its correction notice is -01
        workflow.reject_case(rejected, "不属于本中心受理范围", actor="li")
    monkeypatch.undo()
    report = initialise(data_dir)
    assert report.applied == list(later)
    indexes = {name for name, _unique, _columns in schema(database_path(data_dir))["case_item"][1]}
    assert "case_item_department_case_id" in indexes and "case_item_department" not in indexes
    with db.connection_context():
        def numbered(case_no):
            case = Case.get(Case.case_no == case_no)
            return [(n.kind, n.number[-2:], n.issued_on == case.registered_on, n.issued_by)
                    for n in Notice.select().where(Notice.case == case.id).order_by(Notice.id)]

        assert numbered(never_printed) == [("correction", "01", True, "li"), ("receipt", "02", True, "li")]
        assert numbered(printed) == [("receipt", "01", True, "li")]
        assert numbered(rejected) == [("rejection", "01", True, "li"), ("receipt", "02", True, "li")]


def test_cases_concluded_before_0008_get_their_day_of_conclusion(data_dir):
    """The 改革成效 report compares the day of conclusion with the due date: 0008 fills it from the moment."""
    from county_app.intake import cases

    from test_cases_domain import CENTRE, newborn

    initialise(data_dir, code=CENTRE)
    with db.connection_context():
        concluded, open_case = (cases.register_case(**newborn(), actor="li").case_no for _ in range(2))
    con = sqlite3.connect(database_path(data_dir))
    with con:  # back to the database as 0007 left it, one case concluded then: the moment in UTC, no day
        con.execute('UPDATE "case_record" SET "concluded_at" = \'2026-11-30 10:15:00+00:00\' WHERE "case_no" = ?',
                    (concluded,))
        con.execute('ALTER TABLE "case_record" DROP COLUMN "concluded_on"')
        con.execute('DELETE FROM "schema_migration" WHERE "name" = \'0008_case_concluded_on\'')
    con.close()
    assert initialise(data_dir, code=CENTRE).applied == ["0008_case_concluded_on"]
    con = sqlite3.connect(database_path(data_dir))
    try:
        days = dict(con.execute('SELECT "case_no", "concluded_on" FROM "case_record"'))
    finally:
        con.close()
    # 10:15 UTC is 30 November from UTC−10 to UTC+13: the test passes in any of those zones.
    assert days == {concluded: "2026-11-30", open_case: None}
