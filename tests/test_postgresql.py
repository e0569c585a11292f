"""A county hub on PostgreSQL (issue 10 item 7), on the session's throw-away cluster.

The migrations build on an empty PostgreSQL database what the models
declare; ``init`` and the other commands take ``--database-url`` or
DATABASE_URL, and refuse a township; ``backup`` says to use pg_dump; case
numbers stay unique under concurrent registration. The workflow, the
searches and the catalogue import run on both databases in their own
modules (``ON_BOTH``).
"""
import contextlib
import os
import threading
from datetime import date, datetime, timedelta, timezone

import psycopg2
import pytest

from county_app import migrations, models, settings
from county_app.db import bind, db, is_postgresql
from county_app.intake import numbers

from conftest import ON_BOTH
from test_migrations import ALL_MODELS

ON_POSTGRESQL = pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
CENTRE = "331128101000"
COUNTY = CENTRE[:6]  # a hub is initialised with its county's code
REFUSED = "乡镇节点的数据库只能是 SQLite"


def pg_schema():
    """Tables with their columns, indexes and foreign keys, as comparable data (the database ``db`` is bound to)."""
    def rows(sql):
        return db.execute_sql(sql).fetchall()

    columns = rows("SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default "
                   "FROM information_schema.columns WHERE table_schema = current_schema() "
                   "ORDER BY table_name, ordinal_position")
    indexes = rows("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = current_schema()")
    keys = rows("SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype IN ('f', 'p', 'u') AND connamespace = current_schema()::regnamespace")
    schema = {}
    for table, *column in columns:
        schema.setdefault(table, ([], set(), set()))[0].append(tuple(column))
    for table, definition in indexes:
        schema[table][1].add(definition)
    for table, definition in keys:
        schema[table.strip('"')][2].add(definition)
    return schema


@contextlib.contextmanager
def bound_to(cluster, name, data_dir, monkeypatch):
    """``db`` bound to the database ``name`` of ``cluster`` while inside."""
    monkeypatch.setenv("DATABASE_URL", cluster.url(name))
    bind(data_dir)
    try:
        with db.connection_context():
            yield
    finally:
        db.close_all()


def test_migrations_build_on_an_empty_database_what_the_models_declare(postgres_cluster, tmp_path, monkeypatch):
    stepwise, direct = postgres_cluster.create_database(), postgres_cluster.create_database()
    try:
        with bound_to(postgres_cluster, stepwise, tmp_path, monkeypatch):
            assert is_postgresql()
            applied, backup = migrations.migrate(None)
            assert applied == [name for name, _ in migrations.MIGRATIONS] and backup is None  # pg_dump's job
            assert migrations.migrate(None) == ([], None)
            migrated = pg_schema()
        with bound_to(postgres_cluster, direct, tmp_path, monkeypatch):
            db.create_tables(ALL_MODELS)
            expected = pg_schema()
    finally:
        postgres_cluster.drop_database(stepwise)
        postgres_cluster.drop_database(direct)
    migrated.pop("schema_migration"), expected.pop("schema_migration")
    assert migrated == expected
    assert set(migrated) == {m._meta.table_name for m in ALL_MODELS} - {"schema_migration"}
    assert ("must_change_password", "boolean", None, "NO", "false") in migrated["user"][0]
    assert any(column[:2] == ("registered_at", "timestamp with time zone") for column in migrated["case_record"][0])


def test_a_failing_migration_leaves_the_database_as_it_was(postgres_cluster, tmp_path, monkeypatch):
    name = postgres_cluster.create_database()

    def broken(database):
        database.execute_sql('CREATE TABLE "note" ("id" SERIAL PRIMARY KEY)')
        database.execute_sql("SELECT no_such_function()")

    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + [("0099_broken", broken)])
    try:
        with bound_to(postgres_cluster, name, tmp_path, monkeypatch):
            with pytest.raises(migrations.MigrationFailed, match="0099_broken"):
                migrations.migrate(None)
            assert db.get_tables() == []  # every step of the run rolled back, 0001 included
    finally:
        postgres_cluster.drop_database(name)


def tables_of(url):
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            return {row[0] for row in cursor.fetchall()}
    finally:
        connection.close()


@ON_POSTGRESQL
def test_init_on_postgresql_makes_a_hub_and_refuses_a_township(run_cli, monkeypatch):
    url = os.environ["DATABASE_URL"]
    for args in ((), ("--role", "township")):
        result = run_cli("init", *args)
        assert result.exit_code == 1 and REFUSED in result.output and "--role hub" in result.output, result.output
        assert tables_of(url) == set()  # refused before anything was written

    monkeypatch.delenv("DATABASE_URL")  # the option instead of the environment
    result = run_cli("--database-url", url, "init", "--role", "hub", "--code", COUNTY)
    assert result.exit_code == 0, result.output
    assert migrations.MIGRATIONS[-1][0] in result.output and "已导入目录版本" in result.output
    assert {"case_record", "case_name_gram", "matter"} <= tables_of(url)

    again = run_cli("--database-url", url, "init")  # the stored role: a hub
    assert again.exit_code == 0 and "无（已是最新）" in again.output, again.output
    assert run_cli("--database-url", url, "config", "get", "node.role").output.strip() == "hub"

    demoted = run_cli("--database-url", url, "config", "set", "node.role", "township")
    assert demoted.exit_code == 1 and REFUSED in demoted.output, demoted.output
    assert run_cli("--database-url", url, "config", "get", "node.role").output.strip() == "hub"


@ON_POSTGRESQL
def test_backup_on_postgresql_says_to_use_pg_dump(app, run_cli):
    from urllib.parse import urlsplit

    name = urlsplit(os.environ["DATABASE_URL"]).path.strip("/")
    result = run_cli("backup")
    assert result.exit_code == 1, result.output
    assert "pg_dump" in result.output and f"pg_dump -Fc -f county_app-$(date +%F).dump {name}" in result.output
    assert "pg_restore" in result.output and "scans" in result.output


@ON_POSTGRESQL
def test_serve_on_postgresql_schedules_maintenance_but_no_backup_of_its_own(app, data_dir):
    from county_app import jobs
    from county_app.maintenance import run_maintenance

    scheduler = jobs.build(app)
    assert scheduler.get_job(jobs.MAINTENANCE_JOB) and scheduler.get_job(jobs.BACKUP_JOB) is None
    with db.connection_context():
        report = run_maintenance(data_dir)
    assert report.failures == {} and report.optimized  # ANALYZE instead of SQLite's PRAGMA optimize


def test_a_database_url_that_is_not_postgresql_is_a_clear_error(run_cli):
    try:
        result = run_cli("--database-url", "mysql://county@localhost/county", "init", "--role", "hub")
    finally:
        os.environ.pop("DATABASE_URL", None)  # the option sets it for this process and its children
    assert result.exit_code == 1 and "postgresql://用户名:密码@主机:端口/数据库名" in result.output, result.output


@ON_BOTH
def test_concurrent_registrations_never_share_a_case_number(app):
    """Several connections allocate numbers of one day at once: each number once, none skipped."""
    with db.connection_context(), db.atomic():
        settings.put("centre.code", CENTRE)
    threads, each, day = 6, 15, date(2026, 10, 9)
    barrier, taken, failures = threading.Barrier(threads), [], []

    def register():
        try:
            with db.connection_context():
                barrier.wait(timeout=30)
                for _ in range(each):
                    with db.atomic():
                        taken.append(numbers.allocate(day))
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    workers = [threading.Thread(target=register) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not failures
    prefix = CENTRE + "20261009"
    assert sorted(taken) == [f"{prefix}{n:05d}" for n in range(1, threads * each + 1)]


@ON_BOTH
def test_moments_come_back_as_the_utc_moments_stored(app):
    with db.connection_context():
        applied = models.SchemaMigration.select().order_by(models.SchemaMigration.id).first().applied_at
        moment = datetime(2026, 10, 9, 23, 30, tzinfo=timezone(timedelta(hours=8)))
        with db.atomic():
            row = models.SchemaMigration.create(name="moment", applied_at=moment)
        stored = models.SchemaMigration.get_by_id(row.id).applied_at
    assert applied.utcoffset() == timedelta(0) and abs(datetime.now(timezone.utc) - applied) < timedelta(minutes=5)
    assert stored == moment and stored.utcoffset() is not None  # the same moment, aware
