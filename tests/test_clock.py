"""A PC whose clock is set years wrong (issue 11, bad input): a clear message on every page, no change of a
case recorded with a wrong date, the database untouched; an administrator's way on when records were dated
ahead. The real program runs under libfaketime (Debian's ``faketime``, installed by ``make test``), so its
clock — Python's and SQLite's — shows the time the test chooses."""
import glob
import sqlite3
from datetime import date, timedelta

import pytest

from conftest import PASSWORD
from program import PYTHON_PROGRAM, Running, call, environment, free_port, run
from test_cases_domain import newborn
from web_client import WebClient

from county_app.clock import AHEAD_NOTICE, RELEASED

CENTRE = "331128100000"
LIBFAKETIME = next(iter(glob.glob("/usr/lib/*/faketime/libfaketime.so.1")), None)
pytestmark = pytest.mark.skipif(LIBFAKETIME is None, reason="needs Debian's faketime (make test installs it)")


@pytest.fixture
def centre(tmp_path):
    """A set-up data folder with a clerk's API token and an administrator: (data folder, token)."""
    data_dir = tmp_path / "data"
    env = environment(data_dir)

    def command(*args, input=None):
        code, out, err = run(PYTHON_PROGRAM, *args, env=env, input=input)
        assert code == 0, f"{args}: {out}{err}"
        return out

    command("init")
    command("config", "set", "centre.code", CENTRE)
    command("user", "add", "li", "--role", "clerk", "--password-stdin", input=PASSWORD + "\n")
    command("user", "add", "boss", "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    return data_dir, command("token", "issue", "li").strip().splitlines()[-1]


def served_at(data_dir, moment, tmp_path):
    """``serve`` with its clock starting at ``moment`` (a date, or None for the real time): (program, base)."""
    port = free_port()
    fake = {} if moment is None else {"LD_PRELOAD": LIBFAKETIME, "FAKETIME": f"@{moment:%Y-%m-%d} 10:00:00"}
    program = Running([*PYTHON_PROGRAM, "serve", "--port", str(port)], env=environment(data_dir, **fake),
                      cwd=tmp_path, log=tmp_path / f"console-{port}")
    base = f"http://127.0.0.1:{port}"
    program.wait_ready(base + "/login")
    return program, base


def database_rows(data_dir):
    with sqlite3.connect(data_dir / "county_app.sqlite3") as con:
        return {table: con.execute(f"select count(*) from {table}").fetchone()[0]
                for table in ("case_record", "case_event", "sync_outbox")}


def test_a_clock_reset_to_2000_refuses_every_change_and_says_so_on_every_page(centre, tmp_path):
    data_dir, token = centre
    program, base = served_at(data_dir, date(2000, 1, 1), tmp_path)
    try:
        before = database_rows(data_dir)
        status, refused = call(base, "POST", "/api/v1/cases", newborn(), token=token)
        assert status == 409 and refused["error"]["code"] == "clock_wrong", refused
        assert "本机时钟显示 2000-01-01" in refused["error"]["message"]
        assert f"早于本程序的发布日期 {RELEASED:%Y-%m-%d}" in refused["error"]["message"]
        assert database_rows(data_dir) == before
        clerk = WebClient(base)
        clerk.login("li")
        assert "电脑的日期和时间不对" in clerk.get("/")[2]  # before anything is typed
    finally:
        assert program.stop() == 0, program.output
    assert "Traceback" not in program.output


def test_a_clock_set_back_behind_the_records_stops_work_until_an_administrator_accepts_them(centre, tmp_path):
    data_dir, token = centre
    ahead = date.today() + timedelta(days=2 * 365)
    program, base = served_at(data_dir, ahead, tmp_path)  # the clock was two years ahead for a day
    try:
        status, case = call(base, "POST", "/api/v1/cases", newborn(), token=token)
        assert status == 201, case
    finally:
        assert program.stop() == 0, program.output

    program, base = served_at(data_dir, None, tmp_path)  # then corrected
    try:
        before = database_rows(data_dir)
        status, refused = call(base, "POST", "/api/v1/cases", newborn(), token=token)
        assert status == 409 and refused["error"]["code"] == "clock_wrong", refused
        assert f"比本机已记录的最后一次办理时间 {ahead:%Y-%m-%d}" in refused["error"]["message"]
        assert database_rows(data_dir) == before

        clerk = WebClient(base)
        clerk.login("li")
        assert clerk.post("/admin/health/clock", {}, token_from="/")[0] == 403  # an administrator's word only
        admin = WebClient(base)
        admin.login("boss")
        page = admin.get("/admin/health")[2]
        assert "电脑的时钟被调回过" in page and "时钟已校正，继续办理" in page
        assert admin.post("/admin/health/clock", {}, token_from="/admin/health")[0] in (302, 303)
        page = admin.get("/admin/health")[2]
        assert "按原时间保留，可以继续办理业务" in page and "时钟被调回过" not in page

        status, later = call(base, "POST", "/api/v1/cases", newborn(), token=token)
        assert status == 201, later
    finally:
        assert program.stop() == 0, program.output
    with sqlite3.connect(data_dir / "county_app.sqlite3") as con:
        assert con.execute("select count(*) from audit_log where action = 'config.set' and entity_id = "
                           "'clock.accepted_until' and actor = 'boss'").fetchone() == (1,)


def test_a_clock_years_ahead_of_the_program_is_pointed_out_to_the_administrator(centre, tmp_path):
    data_dir, _token = centre
    program, base = served_at(data_dir, RELEASED + AHEAD_NOTICE + timedelta(days=30), tmp_path)
    try:
        admin = WebClient(base)
        admin.login("boss")
        assert "比本程序的发布日期" in admin.get("/admin/health")[2]
    finally:
        assert program.stop() == 0, program.output
