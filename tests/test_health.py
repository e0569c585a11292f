"""The 运行状况 page and the node's health figures, the log files, and an unexpected error's friendly answer.

Pages and errors through the real server; the warnings' rules on the figures themselves."""
import json
import logging
import re
import sqlite3
import time
from datetime import date, datetime, timedelta

import pytest

from county_app import create_app, migrations, settings
from county_app.db import db
from county_app.operations import health, logs
from county_app.operations.backup import BackupError, take_backup
from county_app.operations.runner import backup_now, verify_and_record
from county_app.views.catalogue import stop_checks
from conftest import serving
from web_client import WebClient

ERROR_NUMBER = re.compile(r"E-\d{8}-[0-9a-f]{6}")


@pytest.fixture
def admin(seeded_app, make_user):
    make_user("boss", "admin")
    make_user("li", "clerk")
    with serving(seeded_app) as url:
        browser = WebClient(url)
        assert browser.login("boss")[0] == 302
        yield browser


def gather(data_dir, now):
    with db.connection_context():
        return health.gather(data_dir, now=now)


def test_the_page_shows_every_figure_to_an_administrator_only(admin, data_dir, unpublished_from_2027):
    status, _, page = admin.get("/admin/health")
    assert status == 200
    for words in ("运行状况", "数据文件夹所在磁盘", "可用", "数据库", "扫描件", "0 个", "最近一次备份", "没有备份",
                  "还没有任何备份", "尚未配置同步", "程序版本", "0.1.0", migrations.MIGRATIONS[-1][0], "2026 年", "2027 年"):
        assert words in page, words
    assert 'href="/admin/health"' in admin.get("/")[2]  # in the administrator's menu
    clerk = WebClient(f"http://{admin.host}:{admin.port}")
    assert clerk.login("li")[0] == 302
    assert clerk.get("/admin/health")[0] == 403
    assert 'href="/admin/health"' not in clerk.get("/")[2]


def test_the_last_backup_shows_verified_and_a_later_failure_is_a_warning(admin, data_dir, tmp_path):
    with db.connection_context():
        made = backup_now(data_dir, actor="test")
    page = admin.get("/admin/health")[2]
    assert made.path.name in page and "未校验" in page and "还没有任何备份" not in page
    with db.connection_context():
        assert verify_and_record(made.path, actor="test").ok
    page = admin.get("/admin/health")[2]
    assert made.path.name in page and "已校验" in page and "未校验" not in page
    (tmp_path / "usb").mkdir()
    with db.connection_context():
        settings.change({"backup.folder": str(tmp_path / "usb")}, actor="test")
    (tmp_path / "usb").rmdir()  # the USB disk pulled out
    with db.connection_context(), pytest.raises(BackupError):
        backup_now(data_dir, actor="test")
    page = admin.get("/admin/health")[2]
    assert "的备份失败：备份文件夹" in page and "没有备份" in page
    assert "最近一次备份（" in page and "）失败：备份文件夹" in page  # among the warnings
    assert "目前不存在或无法访问" in page  # the folder itself is a warning too


def test_a_backup_that_fails_its_verification_is_shown_and_warned_of(admin, data_dir):
    with db.connection_context():
        made = backup_now(data_dir, actor="test")
    with open(made.path, "r+b") as backup:  # one byte of the database part changed on the disk
        backup.seek(5000)
        byte = backup.read(1)
        backup.seek(5000)
        backup.write(bytes([byte[0] ^ 0xFF]))
    with db.connection_context():
        verdict = verify_and_record(made.path, actor="test")
    assert not verdict.ok and "数据库部分的 SHA-256 校验和与清单不符" in verdict.problem
    page = admin.get("/admin/health")[2]
    assert "校验失败" in page and f"最新的备份 {made.path.name} 校验失败" in page
    assert "当前数据库未做任何更改" not in page  # the restore's wording is not the verification's


def test_a_configured_sync_without_a_record_says_so(admin, data_dir):
    with db.connection_context():
        settings.change({"sync.url": "https://hub.example.cn/"}, actor="test")
    page = admin.get("/admin/health")[2]
    assert "尚未配置同步" not in page and "还没有同步记录" in page


def test_next_years_calendar_is_warned_of_from_1_december(seeded_app, data_dir, unpublished_from_2027):
    november = gather(data_dir, datetime(2026, 11, 30, 9))
    december = gather(data_dir, datetime(2026, 12, 1, 9))
    assert not any("2027 年节假日安排尚未导入" in w for w in november.warnings)
    assert any(w.startswith("2027 年节假日安排尚未导入") for w in december.warnings)
    coverage = {year.year: year for year in december.calendar}
    assert coverage[2026].builtin and coverage[2026].complete
    assert not coverage[2027].complete and coverage[2027].catalogue_rows == 0
    assert not any("2026 年节假日" in w for w in december.warnings)


def test_a_year_the_catalogue_holds_is_complete(seeded_app, data_dir, unpublished_from_2027):
    from county_app.catalogue import store
    from county_app.models import CalendarDayRow, CatalogueVersion

    with db.connection_context(), db.atomic():
        version = CatalogueVersion.in_force()
        CalendarDayRow.create(catalogue=version, day=date(2027, 2, 7), kind="work", name="春节调休上班")
    store._calendar_of.cache_clear()
    found = gather(data_dir, datetime(2026, 12, 1, 9))
    assert {y.year: y.catalogue_rows for y in found.calendar}[2027] == 1
    assert not any("2027 年" in w for w in found.warnings)


def test_the_warnings_of_low_disk_and_old_or_missing_backups(seeded_app, data_dir):
    now = datetime(2026, 12, 1, 9)
    base = gather(data_dir, now)
    base.disks = [health.Disk("数据文件夹", data_dir, 900 * 1024 ** 2, 50 * 1024 ** 3)]
    assert any("只剩 0.88 GB 可用空间（低于 1 GB）" in w for w in health.warnings(base, now))
    base.disks = [health.Disk("数据文件夹", data_dir, 2 * 1024 ** 3, 50 * 1024 ** 3)]
    assert not any("可用空间" in w for w in health.warnings(base, now))
    assert any("还没有任何备份" in w for w in health.warnings(base, now))
    with db.connection_context():
        take_backup(data_dir)
    fresh = gather(data_dir, datetime.now())
    assert not any("备份" in w for w in fresh.warnings)
    later = gather(data_dir, datetime.now() + timedelta(days=3))
    assert any("最新的备份是 3 天前的" in w for w in later.warnings)


def test_scans_are_counted_from_their_records(seeded_app, data_dir):
    from county_app.intake.records import Scan

    with db.connection_context(), db.atomic():
        for n, size in enumerate((1000, 2500)):
            Scan.create(sha256=f"{n:064x}", kind="pdf", size=size, pages=1, path=f"scans/00/{n:064x}.pdf",
                        stored_by="test")
    found = gather(data_dir, datetime.now())
    assert (found.scan_count, found.scan_bytes) == (2, 3500)
    assert found.database_bytes >= (data_dir / "county_app.sqlite3").stat().st_size


# ----------------------------------------------------------------------------- logs


def test_the_log_rotates_in_the_data_folder_and_is_private(data_dir, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 2000)
    path = logs.configure(data_dir)
    try:
        assert path == data_dir / "logs" / "county-app.log"
        for n in range(200):
            logging.getLogger("county_app.test").info("line %d 张三 的办件", n)
        files = sorted(p.name for p in path.parent.iterdir())
        assert files == ["county-app.log"] + [f"county-app.log.{n}" for n in range(1, logs.BACKUP_COUNT + 1)]
        assert "line 199 张三 的办件" in path.read_text(encoding="utf-8")
        assert all((path.parent / name).stat().st_mode & 0o777 == 0o600 for name in files)
    finally:
        logs.configure(data_dir)  # a fresh handler at the real size for the rest of the session
        _drop_our_handlers()


def test_a_command_logs_into_its_data_folder(run_cli, data_dir):
    assert run_cli("init").exit_code == 0
    assert run_cli("backup").exit_code == 0
    _drop_our_handlers()
    assert "backup written" in (data_dir / "logs" / "county-app.log").read_text(encoding="utf-8")


def test_the_schedulers_routine_is_not_logged_but_a_failed_job_is(data_dir):
    from apscheduler.schedulers.background import BackgroundScheduler

    def fails():
        raise RuntimeError("the nightly job broke")

    path = logs.configure(data_dir)
    scheduler = BackgroundScheduler()
    try:
        scheduler.start()
        scheduler.add_job(lambda: None, id="fine", name="a routine job")
        scheduler.add_job(fails, id="broken", name="a broken job")
        deadline = time.monotonic() + 10
        while scheduler.get_jobs() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        scheduler.shutdown(wait=True)
        _drop_our_handlers()
    logged = path.read_text(encoding="utf-8")
    assert "the nightly job broke" in logged and "a broken job" in logged, logged
    assert "a routine job" not in logged and "Running job" not in logged, logged


def test_a_folder_without_room_for_logs_still_runs(data_dir):
    (data_dir / "logs").write_text("a file where the folder should be")
    assert logs.configure(data_dir) is None
    _drop_our_handlers()


def _drop_our_handlers():
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, logs._MARK, False)]:
        root.removeHandler(handler)
        handler.close()


# ----------------------------------------------------------------------------- unexpected errors


@pytest.fixture
def failing_server(seeded_app, data_dir, make_user):
    """A logged-in browser on the real app (not in testing mode: exceptions are not propagated) behind
    waitress, with routes that fail."""
    make_user("boss", "admin")
    app = create_app(data_dir)

    def fails():
        sqlite3.connect(":memory:").execute("select * from a_table_that_is_not_there")

    app.add_url_rule("/test-only/fails", "test_fails", fails)
    app.add_url_rule("/api/v1/test-only/fails", "test_api_fails", fails)
    logs.configure(data_dir)
    try:
        with serving(app) as url:
            browser = WebClient(url)
            assert browser.login("boss")[0] == 302
            yield browser
    finally:
        stop_checks(app)
        _drop_our_handlers()


def test_an_unexpected_error_is_a_friendly_page_with_its_number_in_the_log(failing_server, data_dir):
    status, headers, page = failing_server.get("/test-only/fails")
    assert status == 500 and headers["Content-Type"].startswith("text/html")
    assert "出错了" in page and "系统内部错误" in page
    assert "Traceback" not in page and "a_table_that_is_not_there" not in page and "OperationalError" not in page
    number = ERROR_NUMBER.search(page).group(0)
    assert number.startswith(f"E-{date.today():%Y%m%d}-")
    logged = (data_dir / "logs" / "county-app.log").read_text(encoding="utf-8")
    entry = logged[logged.index(number):]
    assert "GET /test-only/fails" in entry and "Traceback" in entry and "a_table_that_is_not_there" in entry
    assert logged.count("Traceback") == 1 and logged.count("OperationalError") == 1  # once, under its number


def test_an_unexpected_api_error_is_json_in_the_apis_shape(failing_server, data_dir):
    status, headers, text = failing_server.get("/api/v1/test-only/fails")
    assert status == 500 and headers["Content-Type"] == "application/json"
    error = json.loads(text)["error"]
    assert error["code"] == "internal" and error["details"] == []
    assert ERROR_NUMBER.fullmatch(error["error_number"]) and error["error_number"] in error["message"]
    assert "a_table_that_is_not_there" not in json.dumps(error)
    logged = (data_dir / "logs" / "county-app.log").read_text(encoding="utf-8")
    assert f"{error['error_number']}: unexpected error on GET /api/v1/test-only/fails" in logged
    numbers = {json.loads(failing_server.get("/api/v1/test-only/fails")[2])["error"]["error_number"]
               for _ in range(3)}
    assert len(numbers | {error["error_number"]}) == 4
