"""改革成效 from real cases: cases made through the API on a real waitress server, read back per bundle.

Time is simulated by moving a case's dates after the API wrote them (the
clerk cannot backdate): registered and accepted on Monday 2 November 2026,
concluded on the Friday or ten working days later. November 2026 has no
public holiday, so the working days are counted by hand below.
"""
import re
import sqlite3

import pytest

from county_app import reports
from county_app.db import database_path, db
from county_app.intake.records import Case

from test_cases_api import Api, apis  # noqa: F401  (apis: the fixture)
from test_cases_domain import newborn
from web_client import WebClient

NOVEMBER = "?from=2026-11-01&to=2026-11-30"


def supply(clerk, case_no, marriage=True):
    for code, body in (("JMSFZ", {"status": "original_verified"}), ("HKB", {"status": "copy_received", "copies": 1}),
                       ("CSYXZM", {"status": "exempt", "licence_no": "DZZZ-2026-0001"}),
                       ("SQB", {"status": "original_verified"})) + ((("JHZ", {"status": "original_verified"}),)
                                                                    if marriage else ()):
        status, answer = clerk.post(f"/api/v1/cases/{case_no}/materials/{code}", body)
        assert status == 200, answer


def conclude(apis, case_no):
    for client, code in ((apis["police"], "GA-0101"), (apis["health"], "WJ-0101"), (apis["health"], "WJ-0102"),
                         (apis["health"], "WJ-0103"), (apis["clerk"], "RS-0101")):
        status, answer = client.post(f"/api/v1/cases/{case_no}/items/{code}/result",
                                     {"outcome": "approved", "on_behalf": client is apis["clerk"]})
        assert status == 200, answer
    assert answer["status"] == "concluded"


def set_dates(case_no, **dates):
    with db.connection_context(), db.atomic():
        assert Case.update(**dates).where(Case.case_no == case_no).execute() == 1


@pytest.fixture
def november(apis):  # noqa: F811
    """Three 新生儿出生 cases of November 2026 and one single matter, made through the API."""
    clerk, admin = apis["clerk"], apis["admin"]
    # A: all papers at once, concluded on Friday (4 working days, due Monday 9th), collected at the window
    # on a later day, rated 5.
    status, case = clerk.post("/api/v1/cases", newborn())
    assert status == 201, case
    a = case["case_no"]
    supply(clerk, a)
    assert clerk.post(f"/api/v1/cases/{a}/accept")[0] == 200
    conclude(apis, a)
    assert clerk.post(f"/api/v1/cases/{a}/deliver", {"method": "window"})[0] == 200
    assert clerk.post(f"/api/v1/cases/{a}/evaluation", {"rating": 5})[0] == 200
    set_dates(a, registered_on="2026-11-02", accepted_on="2026-11-02", due_date="2026-11-09",
              concluded_on="2026-11-06")
    # B: 补正 once (the marriage certificate), came back, concluded late (16th: 10 working days against 5),
    # collected at the window, rated 2; the 差评 rectified.
    status, case = clerk.post("/api/v1/cases", newborn())
    b = case["case_no"]
    supply(clerk, b, marriage=False)
    assert clerk.post(f"/api/v1/cases/{b}/accept")[0] == 409
    clerk.post(f"/api/v1/cases/{b}/materials/JHZ", {"status": "original_verified"})
    assert clerk.post(f"/api/v1/cases/{b}/accept")[0] == 200
    conclude(apis, b)
    assert clerk.post(f"/api/v1/cases/{b}/deliver", {"method": "window"})[0] == 200
    assert clerk.post(f"/api/v1/cases/{b}/evaluation", {"rating": 2, "comment": "等太久"})[0] == 200
    status, tasks = admin.get("/api/v1/rectifications")
    assert admin.post(f"/api/v1/rectifications/{tasks[0]['id']}/close", {"resolution": "已回访致歉"})[0] == 200
    set_dates(b, registered_on="2026-11-02", accepted_on="2026-11-02", due_date="2026-11-09",
              concluded_on="2026-11-16")
    # C: sent to 补正 and not back yet: one visit, not accepted.
    status, case = clerk.post("/api/v1/cases", newborn())
    c = case["case_no"]
    assert clerk.post(f"/api/v1/cases/{c}/accept")[0] == 409
    set_dates(c, registered_on="2026-11-03")
    # D: a single matter (no bundle), outside every bundle's row; E: October, outside the period.
    single = newborn(bundle=None, answers={}, matters=["GA-0101"])
    single["form"] = {code: value for code, value in single["form"].items() if code not in ("XSECSDD", "CKRXM", "LKFS")}
    status, case = clerk.post("/api/v1/cases", single)
    assert status == 201, case
    set_dates(case["case_no"], registered_on="2026-11-20")
    status, case = clerk.post("/api/v1/cases", newborn())
    set_dates(case["case_no"], registered_on="2026-10-30")
    return apis


EXPECTED_NEWBORN = {
    "from": "2026-11-01", "to": "2026-11-30", "cases": 3, "accepted": 2, "concluded": 2, "concluded_on_time": 1,
    "on_time_rate": 50.0, "average_working_days": 7.0, "average_promised_days": 5.0,
    # A: 1 + collection; B: 1 + 补正 + collection; C: 1 (its 补正 not yet come back)
    "visits": 6, "average_visits": 2.0, "evaluations": 2, "satisfied": 1, "satisfaction_rate": 50.0,
    "bad_ratings": 1, "rectified": 1, "rectification_rate": 100.0,
}


def test_the_api_shows_what_happened_per_bundle(november):
    status, rows = november["clerk"].get(f"/api/v1/reports/effects{NOVEMBER}")
    assert status == 200 and len(rows) == 13
    newborn_row = next(row for row in rows if row["bundle"] == "YJS-XSECS")
    assert newborn_row["actual"] == EXPECTED_NEWBORN
    # What the catalogue saves is still there, unchanged (fields are only added).
    assert {key: newborn_row[key] for key in ("materials_before", "materials_after", "visits_after")} == {
        "materials_before": 35, "materials_after": 10, "visits_after": 1}
    other = next(row for row in rows if row["bundle"] == "YJS-KBCY")["actual"]
    assert other["cases"] == 0 and other["average_working_days"] is None and other["on_time_rate"] is None


def test_the_default_period_is_this_year_so_far(november):
    status, rows = november["clerk"].get("/api/v1/reports/effects")
    assert status == 200
    actual = rows[0]["actual"]
    assert actual["from"].endswith("-01-01") and actual["from"][:4] == actual["to"][:4]


BAD_PERIODS = [
    ("?from=2026-13-01", "from"), ("?from=2026-11-31", "from"), ("?to=yesterday", "to"),
    ("?from=2026-11-30&to=2026-11-01", "to"), ("?from=2025-01-01&to=2026-11-30", "to"),
    ("?from=1999-12-31&to=2000-01-02", "from"), ("?from=%3Cscript%3E", "from"), ("?from=20261101", "from"),
]


def test_a_bad_period_is_422_naming_the_field(november):
    for query, field in BAD_PERIODS:
        status, answer = november["clerk"].get(f"/api/v1/reports/effects{query}")
        assert status == 422 and answer["error"]["code"] == "invalid", query
        assert [d["field"] for d in answer["error"]["details"]] == [field], query
        assert re.search("[\u4e00-\u9fff]", answer["error"]["message"]), query
    assert november["anonymous"].get(f"/api/v1/reports/effects{NOVEMBER}")[0] == 401


def test_the_page_shows_the_period(november, live_server):
    browser = WebClient(live_server)
    assert browser.login("li")[0] == 302
    status, _, page = browser.get(f"/reports/effects{NOVEMBER}")
    assert status == 200
    assert "办件实绩：2026-11-01 至 2026-11-30 登记的办件" in page
    row = page[page.index('<table class="effects actual">'):]
    row = row[row.index("新生儿出生一件事"):row.index("</tr>", row.index("新生儿出生一件事"))]
    cells = [re.sub(r"<[^>]+>", " ", cell).split() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells == [["3"], ["2"], ["2"], ["1", "50.0%"], ["7.0"], ["5.0"], ["20"], ["6", "每件", "2.0"],
                         ["2", "满意", "50.0%"], ["1", "/", "1"]]
    assert "其他办件" in page  # the single matter of the 20th
    status, _, page = browser.get("/reports/effects?from=2026-11-30&to=2026-11-01")
    assert status == 400 and "结束日期 2026-11-01 早于开始日期 2026-11-30" in page
    assert 'name="to" type="date" value="2026-11-01"' in page  # what was typed stays in the form


def test_bounded_work_whatever_the_number_of_cases(november, data_dir):
    """The figures come from the same few statements for 3 cases as for 3 × 2⁸: no per-case loop."""
    def statements():
        seen = []
        with db.connection_context():
            db.connection().set_trace_callback(seen.append)
            try:
                found = reports.figures(*reports.period("2026-11-01", "2026-11-30"))
            finally:
                db.connection().set_trace_callback(None)
        return [s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))], found["YJS-XSECS"]

    statements()  # the calendar of the catalogue is read once per process
    few, before = statements()
    with sqlite3.connect(database_path(data_dir)) as con:
        columns = [r[1] for r in con.execute('pragma table_info("case_record")') if r[1] not in ("id", "case_no")]
        listed = ", ".join(f'"{c}"' for c in columns)
        for round_ in range(8):  # doubles the November cases each time (copies keep their dates)
            con.execute(f'INSERT INTO "case_record" ("case_no", {listed}) SELECT "case_no" || \'-{round_}\', '
                        f'{listed} FROM "case_record" WHERE "registered_on" >= \'2026-11-01\'')
    many, after = statements()
    assert len(few) == len(many) <= 4  # the cases, the ratings, the calendar's catalogue version (and its rows)
    assert after.cases == before.cases * 2 ** 8 and after.concluded == before.concluded * 2 ** 8
    assert after.working_days == before.working_days * 2 ** 8
