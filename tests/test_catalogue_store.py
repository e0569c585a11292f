"""Importing, versioning and exporting the catalogue through the database (real SQLite files, and PostgreSQL
as a county hub keeps it; real xlsx files)."""
import io
import time
from pathlib import Path

import openpyxl
import pytest

from county_app.catalogue import store
from county_app.catalogue.xlsx_read import read_workbook
from county_app.db import db
from county_app.digests import file_sha256
from county_app.models import AuditLog, CatalogueVersion, MaterialRow, MatterRow
from tests.conftest import ON_BOTH, csrf_token, login
from tests.workbooks import Book, messages


def counts():
    return (CatalogueVersion.select().count(), MatterRow.select().count(), MaterialRow.select().count())


@ON_BOTH
def test_import_applies_and_records_the_version(app, tmp_path):
    path = Book().save(tmp_path / "c.xlsx")
    with db.connection_context():
        outcome = store.import_workbook(path, actor="officer")
        assert outcome.status == "applied", outcome.errors
        version = CatalogueVersion.in_force()
        assert (version.version, version.imported_by) == ("2026.11-02", "officer")
        assert version.sha256 == file_sha256(path)
        assert MatterRow.get(MatterRow.code == "M002").initials == "csdj"
        entry = AuditLog.get(AuditLog.action == "catalogue.import")
        assert entry.actor == "officer" and entry.entity_id == str(version.id)


@ON_BOTH
def test_reimporting_the_version_in_force_changes_nothing(app, tmp_path):
    path = Book().save(tmp_path / "c.xlsx")
    with db.connection_context():
        store.import_workbook(path, actor="a")
        before = counts()
        again = store.import_workbook(path, actor="a")
        assert again.status == "unchanged" and counts() == before
        edited = Book().set("事项", 2, "承诺办结时限", 3).save(tmp_path / "d.xlsx")
        same_version = store.import_workbook(edited, actor="a")  # other content: refused (issue 7 item 10)
        assert same_version.status == "invalid" and counts() == before
        assert "改为新的版本号" in str(same_version.errors[0])


@ON_BOTH
def test_a_file_with_errors_changes_nothing(app, tmp_path):
    with db.connection_context():
        store.import_workbook(Book().save(tmp_path / "ok.xlsx"), actor="a")
        before = counts()
        bad = Book().set("目录信息", 2, "内容", "2026.12-01").set("材料", 2, "份数", "两份")
        outcome = store.import_workbook(bad.save(tmp_path / "bad.xlsx"), actor="a")
        assert outcome.status == "invalid"
        assert any(str(e).startswith(f"材料!{bad.ref('材料', 2, '份数')}") for e in outcome.errors)
        assert counts() == before
        assert CatalogueVersion.in_force().version == "2026.11-02"


@ON_BOTH
def test_dry_run_shows_the_differences_and_writes_nothing(app, tmp_path):
    with db.connection_context():
        store.import_workbook(Book().save(tmp_path / "v1.xlsx"), actor="a")
        before = counts()
        book = Book().set("目录信息", 2, "内容", "2026.12-01").set("事项", 2, "承诺办结时限", 3)
        book.append("事项", {"事项编码": "M003", "事项名称": "预防接种证办理", "事项类型": "公共服务",
                            "实施部门": "县卫生健康局", "办件类型": "即办件", "法定办结时限": 0,
                            "承诺办结时限": 0})
        outcome = store.import_workbook(book.save(tmp_path / "v2.xlsx"), actor="a", dry_run=True)
        assert outcome.status == "checked"
        text = "\n".join(outcome.diff.lines())
        assert "+ M003 预防接种证办理" in text
        assert "~ M001 出生医学证明签发（承诺办结时限）" in text
        assert counts() == before


@ON_BOTH
def test_a_new_version_keeps_the_old_rows(app, tmp_path):
    with db.connection_context():
        store.import_workbook(Book().save(tmp_path / "v1.xlsx"), actor="a")
        first = CatalogueVersion.in_force()
        book = Book().set("目录信息", 2, "内容", "2026.12-01").set("事项", 2, "承诺办结时限", 3)
        assert store.import_workbook(book.save(tmp_path / "v2.xlsx"), actor="a").status == "applied"
        second = CatalogueVersion.in_force()
        assert second.id != first.id
        old = MatterRow.get((MatterRow.catalogue == first) & (MatterRow.code == "M001"))
        new = MatterRow.get((MatterRow.catalogue == second) & (MatterRow.code == "M001"))
        assert (old.promised_days, new.promised_days) == (5, 3)
        assert [v.version for v in store.versions()] == ["2026.12-01", "2026.11-02"]


@ON_BOTH
def test_export_reads_back_to_the_same_catalogue(app, tmp_path):
    with db.connection_context():
        store.import_workbook(Book().save(tmp_path / "c.xlsx"), actor="a")
        out = tmp_path / "out.xlsx"
        assert store.export_workbook(out) == "2026.11-02"
        again = read_workbook(out)
        assert again.errors == []
        assert again.catalogue == store.load_catalogue(CatalogueVersion.in_force())


@ON_BOTH
def test_export_without_a_catalogue_is_a_clear_error(app, tmp_path):
    with db.connection_context(), pytest.raises(store.CatalogueError, match="还没有导入"):
        store.export_workbook(tmp_path / "x.xlsx")


@ON_BOTH
def test_seed_round_trip(seeded_app, tmp_path):
    """Export the seed, import it into a fresh node: the same catalogue, cell for cell in meaning."""
    with db.connection_context():
        seed = store.load_catalogue(CatalogueVersion.in_force())
        out = tmp_path / "seed-export.xlsx"
        store.export_workbook(out)
    result = read_workbook(out)
    assert result.errors == []
    assert result.catalogue == seed
    assert len(seed.bundles) >= 13


def test_lxml_is_not_installed():
    """With lxml, openpyxl writes every Chinese character as a numeric entity."""
    from openpyxl.xml import LXML

    assert LXML is False


# --- the command line ---------------------------------------------------------

@ON_BOTH
def test_cli_import_dry_run_and_export(app, run_cli, tmp_path):
    path = Book().save(tmp_path / "c.xlsx")
    dry = run_cli("catalogue", "import", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "检查通过" in dry.output and "+ M001 出生医学证明签发" in dry.output
    with db.connection_context():
        assert CatalogueVersion.select().count() == 0
    done = run_cli("catalogue", "import", str(path))
    assert done.exit_code == 0 and "已导入目录版本 2026.11-02" in done.output
    out = tmp_path / "export.xlsx"
    exported = run_cli("catalogue", "export", str(out))
    assert exported.exit_code == 0 and out.exists()


@ON_BOTH
def test_cli_import_reports_every_error_and_exits_1(app, run_cli, tmp_path):
    book = Book().set("材料", 2, "份数", "两份").set("事项", 2, "办件类型", "快办件")
    result = run_cli("catalogue", "import", str(book.save(tmp_path / "bad.xlsx")))
    assert result.exit_code == 1
    assert f"材料!{book.ref('材料', 2, '份数')}" in result.output
    assert f"事项!{book.ref('事项', 2, '办件类型')}" in result.output
    with db.connection_context():
        assert CatalogueVersion.select().count() == 0


@ON_BOTH
@pytest.mark.usefixtures("unpublished_from_2027")  # 2030 stays unpublished whatever chinesecalendar holds
def test_cli_calendar_due_uses_the_catalogue_sheet(app, run_cli, tmp_path):
    assert run_cli("calendar", "due", "2026-09-30", "4").output.strip().splitlines()[-1] == "2026-10-12"
    book = Book()
    book.append("节假日", ["2026-10-12", "休息日", "测试假日"])
    assert run_cli("catalogue", "import", str(Book().save(tmp_path / "a.xlsx"))).exit_code == 0
    book.set("目录信息", 2, "内容", "2026.12-01")
    assert run_cli("catalogue", "import", str(book.save(tmp_path / "b.xlsx"))).exit_code == 0
    assert run_cli("calendar", "due", "2026-09-30", "4").output.strip().splitlines()[-1] == "2026-10-13"
    future = run_cli("calendar", "due", "2030-12-30", "3")
    assert future.exit_code == 0 and "日历不完整" in future.output
    assert run_cli("calendar", "due", "30/09/2026", "4").exit_code == 1
    for days in ("99999999999", "²", "1_0"):  # refused at once, in Chinese, not counted day by day
        result = run_cli("calendar", "due", "2026-09-30", days)
        assert result.exit_code == 1 and "天数应为" in result.output, result.output


@ON_BOTH
@pytest.mark.usefixtures("unpublished_from_2027")
def test_cli_calendar_due_across_2027_before_and_after_its_notice(app, run_cli, tmp_path):
    # Thursday 2026-12-31 + 1: 元旦 is Friday, then the weekend; the date alone on stdout.
    new_year = run_cli("calendar", "due", "2026-12-31", "1")
    assert (new_year.exit_code, new_year.stdout) == (0, "2027-01-04\n")
    assert "2027 年的调休安排未公布" in new_year.stderr and "日历不完整" in new_year.stderr
    # Thursday 2027-02-04 + 1: 除夕 (Fri, 腊月廿九) to 初三 (Mon) rest.
    spring = run_cli("calendar", "due", "2027-02-04", "1")
    assert (spring.exit_code, spring.stdout) == (0, "2027-02-09\n")
    assert "调休安排未公布" in spring.stderr
    # The county enters 2027's notice (here a bridging day and a make-up Saturday): no warning,
    # the rows count, and the law's days the rows leave out still rest.
    book = Book()
    book.append("节假日", ["2027-02-09", "休息日", "春节"])
    book.append("节假日", ["2027-02-20", "工作日", "春节调休"])
    assert run_cli("catalogue", "import", str(book.save(tmp_path / "c.xlsx"))).exit_code == 0
    published = run_cli("calendar", "due", "2027-02-04", "1")
    assert (published.exit_code, published.stdout, published.stderr) == (0, "2027-02-10\n", "")
    assert run_cli("calendar", "due", "2027-02-18", "2").stdout == "2027-02-20\n"
    assert run_cli("calendar", "due", "2026-12-31", "1").stdout == "2027-01-04\n"


# --- the web pages ------------------------------------------------------------

def finished(client, answer, timeout=60):
    """Follow a catalogue job's page (``answer`` redirects to it) until it shows the job's answer."""
    assert answer.status_code == 303, answer.get_data(as_text=True)
    url = answer.headers["Location"]
    deadline = time.monotonic() + timeout
    while True:
        page = client.get(url)
        if 'id="job-progress"' not in page.get_data(as_text=True) or time.monotonic() > deadline:
            return page
        time.sleep(0.2)


def _upload(client, path):
    """Upload a workbook on the catalogue page and wait for its check; gives the answer page."""
    token = csrf_token(client, "/catalogue/")
    with open(path, "rb") as handle:
        data = {"csrf_token": token, "workbook": (io.BytesIO(handle.read()), path.name)}
    answer = client.post("/catalogue/upload", data=data, content_type="multipart/form-data")
    return finished(client, answer) if answer.status_code == 303 else answer


def _confirm(client, page):
    job = page.get_data(as_text=True).split('name="job" value="')[1].split('"')[0]
    return finished(client, client.post("/catalogue/confirm", data={
        "csrf_token": csrf_token(client, "/catalogue/"), "job": job}))


@ON_BOTH
def test_web_upload_preview_confirm(app, client, make_user, tmp_path):
    make_user("officer", "county")
    login(client, "officer")
    preview = _upload(client, Book().save(tmp_path / "c.xlsx"))
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "确认发布版本 2026.11-02" in page
    with db.connection_context():
        assert CatalogueVersion.select().count() == 0
    confirmed = _confirm(client, preview)
    assert "已发布目录版本 2026.11-02" in confirmed.get_data(as_text=True)
    with db.connection_context():
        version = CatalogueVersion.in_force()
        assert (version.version, version.imported_by, version.filename) == ("2026.11-02", "officer", "c.xlsx")
    assert list((Path(app.config["DATA_DIR"]) / "uploads").glob("*.xlsx")) == []  # a confirmed upload goes


@ON_BOTH
def test_web_upload_with_errors_lists_them_and_changes_nothing(app, client, make_user, tmp_path):
    make_user("officer", "county")
    login(client, "officer")
    book = Book().set("材料", 2, "份数", "两份")
    page = _upload(client, book.save(tmp_path / "bad.xlsx")).get_data(as_text=True)
    assert f"材料!{book.ref('材料', 2, '份数')}" in page and "未做任何更改" in page
    not_xlsx = tmp_path / "notes.xlsx"
    not_xlsx.write_text("这不是工作簿", encoding="utf-8")
    assert "不是" in _upload(client, not_xlsx).get_data(as_text=True)
    with db.connection_context():
        assert CatalogueVersion.select().count() == 0


@ON_BOTH
def test_web_import_is_for_the_county_role_only(app, client, make_user, tmp_path):
    make_user("li", "clerk")
    login(client, "li")
    assert _upload(client, Book().save(tmp_path / "c.xlsx")).status_code == 403


@ON_BOTH
def test_web_export_downloads_the_catalogue(app, client, make_user, tmp_path):
    with db.connection_context():
        store.import_workbook(Book().save(tmp_path / "c.xlsx"), actor="a")
    make_user("officer", "county")
    login(client, "officer")
    answer = client.get("/catalogue/export")
    assert answer.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(answer.data), read_only=True)
    assert "事项" in workbook.sheetnames
    workbook.close()


@ON_BOTH
def test_a_catalogue_without_holidays_imports(app, tmp_path):
    with db.connection_context():
        outcome = store.import_workbook(Book().drop_sheet("节假日").save(tmp_path / "c.xlsx"), actor="a")
        assert outcome.status == "applied", outcome.errors
        assert store.load_catalogue(CatalogueVersion.in_force()).calendar == []


@ON_BOTH
def test_uploads_never_confirmed_are_dropped_after_a_day(app, client, make_user, data_dir, tmp_path):
    import os
    import time

    make_user("officer", "county")
    login(client, "officer")
    staging = data_dir / "uploads"
    staging.mkdir(exist_ok=True)
    old, recent = staging / ("catalogue-" + "a" * 64 + ".xlsx"), staging / ("catalogue-" + "b" * 64 + ".xlsx")
    for path in (old, recent):
        path.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    _upload(client, Book().save(tmp_path / "c.xlsx"))
    assert not old.exists() and recent.exists()


# --- an older file (issue 8 item 6) ---------------------------------------------------------------

def older_book() -> Book:
    """A new version label, but dated before the minimal catalogue (2026-11-02): an old copy found on a PC."""
    return Book().set("目录信息", 2, "内容", "2026.10-01").set("目录信息", 4, "内容", "2026-10-01")


OLDER = "这个文件的发布日期 2026-10-01 早于正在使用的目录版本 “2026.11-02” 的发布日期 2026-11-02，是一个旧文件"


@ON_BOTH
def test_an_older_file_is_refused_unless_confirmed(app, tmp_path):
    path = older_book().save(tmp_path / "old.xlsx")
    with db.connection_context():
        store.import_workbook(Book().save(tmp_path / "c.xlsx"), actor="a")
        before = counts()
        checked = store.import_workbook(path, actor="officer", dry_run=True)
        assert checked.status == "checked" and checked.older == OLDER
        assert f"注意：{OLDER}" in checked.summary()
        refused = store.import_workbook(path, actor="officer")
        assert refused.status == "invalid" and counts() == before
        assert messages(refused.errors) == [
            f"目录信息!B4: {OLDER}，未做任何更改；如确要用它替换正在使用的目录，请确认导入旧文件"]
        done = store.import_workbook(path, actor="officer", allow_older=True)
        assert done.status == "applied" and CatalogueVersion.in_force().version == "2026.10-01"
        entry = AuditLog.get(AuditLog.action == "catalogue.import_older")
        assert entry.actor == "officer"
        assert '"replaced": "2026.11-02"' in entry.detail and '"replaced_published_on": "2026-11-02"' in entry.detail


@ON_BOTH
def test_a_file_of_the_same_day_or_without_dates_is_not_older(app, tmp_path):
    with db.connection_context():
        store.import_workbook(Book().save(tmp_path / "c.xlsx"), actor="a")
        same_day = Book().set("目录信息", 2, "内容", "2026.11-03").set("材料", 2, "份数", 3)
        assert store.import_workbook(same_day.save(tmp_path / "same.xlsx"), actor="a").status == "applied"
        undated = older_book().set("目录信息", 2, "内容", "2026.11-04")
        undated.sheets["目录信息"].pop(3)  # no 发布日期 row: nothing can be told
        assert store.import_workbook(undated.save(tmp_path / "undated.xlsx"), actor="a").status == "applied"
        assert AuditLog.select().where(AuditLog.action == "catalogue.import_older").count() == 0


@ON_BOTH
def test_cli_older_file_needs_allow_older(app, run_cli, tmp_path):
    assert run_cli("catalogue", "import", str(Book().save(tmp_path / "c.xlsx"))).exit_code == 0
    path = str(older_book().save(tmp_path / "old.xlsx"))
    dry = run_cli("catalogue", "import", path, "--dry-run")
    assert dry.exit_code == 0 and f"注意：{OLDER}" in dry.output
    assert "这是一个旧文件：导入时须加 --allow-older 确认" in dry.output
    refused = run_cli("catalogue", "import", path)
    assert refused.exit_code == 1
    assert f"错误 目录信息!B4: {OLDER}，未做任何更改" in refused.output
    assert "如确要导入，请加 --allow-older 重新运行" in refused.output
    with db.connection_context():
        assert CatalogueVersion.in_force().version == "2026.11-02"
    done = run_cli("catalogue", "import", path, "--allow-older")
    assert done.exit_code == 0 and "已导入目录版本 2026.10-01" in done.output and OLDER in done.output
    with db.connection_context():
        assert CatalogueVersion.in_force().version == "2026.10-01"
        assert AuditLog.get(AuditLog.action == "catalogue.import_older").actor


@ON_BOTH
def test_web_older_file_needs_the_tick(app, client, make_user, tmp_path):
    with db.connection_context():
        store.import_workbook(Book().save(tmp_path / "c.xlsx"), actor="a")
    make_user("officer", "county")
    login(client, "officer")
    preview = _upload(client, older_book().save(tmp_path / "old.xlsx"))
    page = preview.get_data(as_text=True)
    assert OLDER in page and 'name="allow_older"' in page
    job = page.split('name="job" value="')[1].split('"')[0]
    token = csrf_token(client, "/catalogue/")
    unticked = client.post("/catalogue/confirm", data={"csrf_token": token, "job": job})
    assert unticked.status_code == 422 and "请先勾选“确认发布这个旧文件”" in unticked.get_data(as_text=True)
    with db.connection_context():
        assert CatalogueVersion.in_force().version == "2026.11-02"
    ticked = finished(client, client.post("/catalogue/confirm", data={
        "csrf_token": token, "job": job, "allow_older": "1"}))
    assert "已发布目录版本 2026.10-01" in ticked.get_data(as_text=True)
    with db.connection_context():
        assert CatalogueVersion.in_force().version == "2026.10-01"
        assert AuditLog.get(AuditLog.action == "catalogue.import_older").actor == "officer"
