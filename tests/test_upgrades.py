"""Upgrades: a database made by every earlier schema version upgrades cleanly, data included.

The fixtures (tests/fixtures/schemas/<version>.sqlite3) were made by the code
of each version (make_fixtures.py says how; run it again after adding a
migration). Each is upgraded by the real ``county-app init`` in a child
process, then served by the real server: the clerk logs in with the password
the old version stored, the old cases read as before, the catalogue is in
force. A failed migration leaves the old database byte for byte as it was.
"""
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from county_app import create_app, migrations
from county_app.db import db
from county_app.operations import archive as backup_archive
from conftest import serving
from test_migrations import schema
from web_client import WebClient

FIXTURES = Path(__file__).parent / "fixtures" / "schemas"
VERSIONS = sorted(path.stem for path in FIXTURES.glob("*.sqlite3"))
CURRENT = migrations.MIGRATIONS[-1][0]


# Migrations that no program on main ever had as its newest: they came in one commit with the next, or (0013)
# were merged after the next.
NEVER_NEWEST = {"0003_case_item_department_index", "0009_case_event_request_key", "0013_sync_scans"}


def test_a_fixture_for_every_earlier_version_but_the_ones_never_released():
    names = [name for name, _ in migrations.MIGRATIONS]
    # the newest is today's schema (a fresh init); each earlier one has a database made by its own code
    assert set(names[:-1]) - set(VERSIONS) <= NEVER_NEWEST
    assert set(VERSIONS) <= set(names)


def facts(path):
    """What an old database holds, read with plain SQL (the old schema's own columns)."""
    con = sqlite3.connect(path)
    try:
        has = lambda table: con.execute("select 1 from sqlite_master where name = ?", (table,)).fetchone()  # noqa: E731
        found = {
            "users": [r[0] for r in con.execute("select username from user order by id")],
            "catalogue": con.execute("select version, sha256 from catalogue_version order by id").fetchall(),
            "cases": [], "events": 0,
        }
        if has("case_record"):
            found["cases"] = con.execute("select case_no, status, applicant_name from case_record order by id").fetchall()
            found["events"] = con.execute("select count(*) from case_event").fetchone()[0]
        return found
    finally:
        con.close()


def cli(data_dir, *args):
    return subprocess.run([sys.executable, "-m", "county_app", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("version", VERSIONS)
def test_each_schema_version_upgrades_with_its_data(version, data_dir, tmp_path):
    shutil.copyfile(FIXTURES / f"{version}.sqlite3", data_dir / "county_app.sqlite3")
    before = facts(data_dir / "county_app.sqlite3")
    assert before["users"] == ["admin", "wangfang"] and len(before["catalogue"]) == 1

    upgraded = cli(data_dir, "init")
    assert upgraded.returncode == 0, upgraded.stderr
    pending = [name for name, _ in migrations.MIGRATIONS][[n for n, _ in migrations.MIGRATIONS].index(version) + 1:]
    if pending:
        assert ", ".join(pending) in upgraded.stdout
        backups = list((data_dir / "backups").glob(f"county-app-*-before-{pending[0]}.zip"))
        assert len(backups) == 1 and str(backups[0]) in upgraded.stdout
        with backup_archive.open_checked(backups[0]) as checked:
            backup_archive.extract_checked(checked, "county_app.sqlite3", tmp_path / "county_app.sqlite3")
        assert facts(tmp_path / "county_app.sqlite3") == before  # the backup is of the old database
    else:
        assert "无（已是最新）" in upgraded.stdout

    fresh = tmp_path / "fresh"
    assert cli(fresh, "init").returncode == 0
    assert schema(data_dir / "county_app.sqlite3") == schema(fresh / "county_app.sqlite3")
    assert facts(data_dir / "county_app.sqlite3") == before  # nothing lost, nothing added (init makes no user)

    app = create_app(data_dir, {"TESTING": True})
    try:
        with serving(app) as url:
            clerk = WebClient(url)
            assert clerk.login("wangfang") == (302, "/")  # the password hash the old version stored
            status, _, page = clerk.get("/")
            assert status == 200 and "新生儿出生" in page  # the catalogue in force
            for case_no, status_name, applicant in before["cases"]:
                status, _, page = clerk.get(f"/cases/{case_no}")
                assert status == 200 and case_no in page and applicant in page
            status, _, page = clerk.get("/cases?q=13800138000")
            assert status == 200 and all(case_no in page for case_no, _, _ in before["cases"])
    finally:
        if not db.is_closed():
            db.close()


BROKEN = """
import sys
from county_app import migrations
from county_app.cli import main

def broken(database):
    database.execute_sql('create table half_done (id integer primary key)')
    database.execute_sql('update "user" set display_name = \\'changed\\'')
    raise RuntimeError('boom')

migrations.MIGRATIONS.append(('9999_broken', broken))
main(sys.argv[1:])
"""


@pytest.mark.parametrize("version", VERSIONS)
def test_a_failed_migration_leaves_the_old_database_byte_for_byte(version, data_dir):
    original = (FIXTURES / f"{version}.sqlite3").read_bytes()
    (data_dir / "county_app.sqlite3").write_bytes(original)
    failed = subprocess.run([sys.executable, "-c", BROKEN, "--data-dir", str(data_dir), "init"],
                            capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1
    assert "数据库升级失败（9999_broken：boom），数据库保持升级前的状态" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert (data_dir / "county_app.sqlite3").read_bytes() == original
    wal = data_dir / "county_app.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0


def test_a_backup_of_an_older_version_is_restored_and_upgraded(data_dir, tmp_path):
    """A backup taken by (the data of) schema 0002 restores into today's program and is upgraded there."""
    old_node = tmp_path / "old"
    old_node.mkdir()
    shutil.copyfile(FIXTURES / "0002_cases.sqlite3", old_node / "county_app.sqlite3")
    before = facts(old_node / "county_app.sqlite3")
    taken = cli(old_node, "backup", str(tmp_path / "old.zip"))  # an online copy: the old database is not upgraded
    assert taken.returncode == 0 and "数据库版本 0002_cases" in taken.stdout, taken.stderr
    assert cli(data_dir, "init").returncode == 0
    restored = cli(data_dir, "restore", str(tmp_path / "old.zip"))
    assert restored.returncode == 0, restored.stderr
    assert "0003_case_item_department_index" in restored.stdout and CURRENT in restored.stdout
    assert facts(data_dir / "county_app.sqlite3") == before
    fresh = tmp_path / "fresh"
    assert cli(fresh, "init").returncode == 0
    assert schema(data_dir / "county_app.sqlite3") == schema(fresh / "county_app.sqlite3")
