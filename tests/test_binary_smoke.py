"""The built program, driven as a user drives it (issue 11, item 7).

``make binary`` builds ``dist/county-app`` (PyInstaller, one file; make rebuilds
it only when something it bundles changed). The test starts it with no
arguments on a fresh data folder from the folder it lies in, as a
double-click does, and waits for the first page. A second double-click
then opens the browser on the copy that runs, and a start on another data
folder finds port 8080 taken. The test then uses the same executable's
commands and its HTTP API: a newer catalogue is exported, edited and
imported, a clerk and an API token are made, a case is registered, a scan
uploaded (checked in a child process: the executable started again), its
printed 收件回执 fetched, a backup taken, a second case registered, the
program stopped with Ctrl+C, the backup restored and the program started
again: the first case is there, the second is gone. Nothing may appear
beside the executable, and nothing is added to the folder it unpacks itself
into while it runs. Double-clicked on a data folder an older version made,
it backs the database up, upgrades it and serves its cases.
"""
import json
import shutil
import subprocess
from datetime import datetime

import openpyxl
import pytest

from conftest import sample_pdf
from program import EXECUTABLE, ROOT, Running, call, environment, fake_browser, opened, run
from test_cases_api import Api
from test_cases_domain import CENTRE, newborn
from test_upgrades import FIXTURES, facts

BASE = "http://127.0.0.1:8080"
NEW_VERSION = "2099.01-01"
PASSWORD = "春天 骑车 去 县城 27"


@pytest.fixture(scope="module")
def executable():
    built = subprocess.run(["make", "--no-print-directory", "binary"], cwd=ROOT, capture_output=True, text=True,
                           timeout=900)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return [str(EXECUTABLE)]


def files_under(folder):
    """Every file below ``folder`` with its size and modification time."""
    return {(path.relative_to(folder).as_posix(), path.stat().st_size, path.stat().st_mtime_ns)
            for path in folder.rglob("*") if path.is_file()}


def unpack_folder(tmp):
    """The folder a running one-file program unpacked itself into (``_MEI…`` in its temporary folder)."""
    folders = list(tmp.glob("_MEI*"))
    assert len(folders) == 1, folders
    return folders[0]


def newer_catalogue(exported, target):
    """The exported catalogue with a new version and publication date, as the county would publish it."""
    book = openpyxl.load_workbook(exported)
    for row in book["目录信息"].iter_rows(min_row=2):
        if row[0].value == "目录版本":
            row[1].value = NEW_VERSION
        elif row[0].value == "发布日期":
            row[1].value = datetime(2099, 1, 1)
    book.save(target)
    book.close()


def test_the_built_program_as_a_user_runs_it(executable, port_8080, tmp_path):
    data_dir, unpack = tmp_path / "data", tmp_path / "unpack"
    unpack.mkdir()
    env = environment(data_dir, TMPDIR=str(unpack), TEMP=str(unpack), TMP=str(unpack))
    beside = EXECUTABLE.parent
    before = files_under(beside)

    def command(*args, input=None):
        code, out, err = run(executable, *args, env=env, input=input)
        assert code == 0, f"{args}: {out}{err}"
        return out

    assert "county-app" in command("--version")
    program = Running(executable, env=env, cwd=beside, log=tmp_path / "console-1")  # a double-click
    try:
        program.wait_ready(BASE + "/login", timeout=120)
        unpacked = files_under(unpack_folder(unpack))
        assert "网址：http://127.0.0.1:8080/" in program.output and f"数据文件夹：{data_dir}" in program.output
        browser_env, opened_log = fake_browser(tmp_path)
        code, out, err = run(executable, env={**env, **browser_env, "TMPDIR": str(tmp_path)})  # a second double-click
        assert code == 1 and "Traceback" not in out + err
        assert f"本程序已经在运行，使用同一个数据文件夹 {data_dir}，网址 {BASE}/（已在浏览器中打开）" in err
        assert opened(opened_log) == [BASE + "/"]
        elsewhere = environment(tmp_path / "another-data", TMPDIR=str(tmp_path))  # 8080 is the first copy's
        code, out, err = run(executable, env=elsewhere)
        assert code == 1 and "端口 8080 已被其他程序占用" in err and "Traceback" not in out + err
        command("config", "set", "centre.code", CENTRE)
        command("catalogue", "export", str(tmp_path / "seed.xlsx"))
        newer_catalogue(tmp_path / "seed.xlsx", tmp_path / "newer.xlsx")
        assert NEW_VERSION in command("catalogue", "import", str(tmp_path / "newer.xlsx"))
        command("user", "add", "clerk", "--role", "clerk", "--password-stdin", input=PASSWORD + "\n")
        token = command("token", "issue", "clerk").strip().splitlines()[-1]
        status, health = call(BASE, "GET", "/api/v1/health")
        assert status == 200 and health["catalogue_version"] == NEW_VERSION

        status, kept = call(BASE, "POST", "/api/v1/cases", newborn(), token=token)
        assert status == 201, kept
        # the scan check runs in a child process: the executable starting itself again (freeze_support)
        status, answer = Api(BASE, token).upload(f"/api/v1/cases/{kept['case_no']}/materials/SQB", "scan",
                                                 "申请表.pdf", sample_pdf(2))
        assert status == 200 and answer["pages"] == 2, answer
        status, page = call(BASE, "GET", f"/cases/{kept['case_no']}/notices/receipt", token=token)
        assert status == 200 and "收件回执" in page and "<svg" in page  # with its QR code (segno)

        backup = tmp_path / "before-the-second-case.zip"
        assert "已校验：校验和与完整性检查" in command("backup", "--verify", str(backup))
        status, dropped = call(BASE, "POST", "/api/v1/cases", newborn(), token=token)
        assert status == 201, dropped
        code, out, err = run(executable, "restore", str(backup), env=env)
        assert code == 1 and "正由另一个正在运行的本程序使用" in err  # not under the running program
        assert files_under(unpack_folder(unpack)) == unpacked  # nothing written into the unpacked program
    finally:
        assert program.stop() == 0, program.output
    assert "服务已停止" in program.output

    assert "已恢复备份" in command("restore", str(backup))
    program = Running(executable, env=env, cwd=beside, log=tmp_path / "console-2")
    try:
        program.wait_ready(BASE + "/login", timeout=120)
        status, case = call(BASE, "GET", f"/api/v1/cases/{kept['case_no']}", token=token)
        assert status == 200 and {m["code"]: m["status"] for m in case["materials"]}["SQB"] == "scanned"
        assert call(BASE, "GET", f"/api/v1/cases/{dropped['case_no']}", token=token)[0] == 404
    finally:
        assert program.stop() == 0, program.output
    for console in ("console-1", "console-2"):
        assert "Traceback" not in (tmp_path / console).read_text(encoding="utf-8")
    assert files_under(beside) == before  # nothing beside the executable
    assert list(unpack.iterdir()) == []  # the unpacked program is removed when it ends


def test_the_built_program_upgrades_a_centres_older_database(executable, port_8080, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(FIXTURES / "0002_cases.sqlite3", data_dir / "county_app.sqlite3")  # made by that version's code
    before = facts(data_dir / "county_app.sqlite3")
    assert len(before["cases"]) == 2
    env = environment(data_dir, TMPDIR=str(tmp_path))
    program = Running(executable, env=env, cwd=EXECUTABLE.parent, log=tmp_path / "console")  # a double-click
    try:
        program.wait_ready(BASE + "/login", timeout=120)
        code, out, err = run(executable, "token", "issue", "wangfang", env=env)  # the old version's clerk
        assert code == 0, out + err
        token = out.strip().splitlines()[-1]
        for case_no, _, applicant in before["cases"]:
            status, case = call(BASE, "GET", f"/api/v1/cases/{case_no}", token=token)
            assert status == 200 and applicant in json.dumps(case, ensure_ascii=False), case
    finally:
        assert program.stop() == 0, program.output
    first = "0003_case_item_department_index"
    (backup,) = (data_dir / "backups").glob(f"county-app-*-before-{first}.zip")
    assert f"升级前已备份（数据库和扫描件，已校验）：{backup}" in program.output
    assert f"已执行的数据库迁移：{first}, " in program.output and "Traceback" not in program.output
    assert facts(data_dir / "county_app.sqlite3") == before
