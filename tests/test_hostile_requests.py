"""Requests that used to make the server build huge answers or fail with 500, through the real waitress server.

Issue 7, items 5 and 8: request bodies are capped per route (413 in Chinese,
uploads keep their own limits); answers to questions a bundle does not have
are ONE short error; the details of any error are capped; a bad value is
quoted by its start only; odd page numbers, versions, counts, lone
surrogates, deep JSON and integers beyond SQLite's range are a clear 4xx
that changes nothing. And a 容缺 due date is after today and within a year.
"""
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import date, timedelta

import pytest

from county_app import accounts, settings
from county_app.api.errors import json_error
from county_app.db import db

from conftest import PASSWORD
from test_cases_api import Api
from test_cases_domain import CENTRE, MOTHER_ID, PHONE, XSECS_FORM, newborn

MB = 1024 * 1024


class Browser:
    """A logged-in browser session against the live server: cookies, and the CSRF token of its pages."""

    def __init__(self, base, username):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        status, page = self.get("/login")
        assert status == 200
        status, _ = self.post("/login", {"username": username, "password": PASSWORD}, token_from=page)
        assert status == 200, "login failed"

    def call(self, method, path, data=None, content_type=None):
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode()

    def get(self, path):
        return self.call("GET", path)

    def token(self, page=None):
        page = page if page is not None else self.get("/")[1]
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def post(self, path, fields, token_from=None):
        fields = {"csrf_token": self.token(token_from), **fields}
        return self.call("POST", path, urllib.parse.urlencode(fields, doseq=True).encode(),
                         "application/x-www-form-urlencoded")

    def upload(self, path, fields, field, filename, data):
        boundary = uuid.uuid4().hex
        fields = {"csrf_token": self.token(), **fields}
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
                 for key, value in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.call("POST", path, body, f"multipart/form-data; boundary={boundary}")


class RawApi(Api):
    """The API client, also sending raw bytes and keeping the size of each answer."""

    def raw(self, method, path, data, content_type="application/json"):
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            with error:
                status, text = error.code, error.read()
        return status, len(text), json.loads(text)


@pytest.fixture
def centre(live_server, make_user):
    """A clerk (API token and browser), an admin (token), a county officer (browser); the centre code set."""
    make_user("li", "clerk")
    make_user("boss", "admin")
    make_user("xian", "county")
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        clerk = RawApi(live_server, accounts.issue_token("li", actor="test").token)
        admin = RawApi(live_server, accounts.issue_token("boss", actor="test").token)
    return {"base": live_server, "clerk": clerk, "admin": admin}


def registered(api):
    status, case = api.post("/api/v1/cases", newborn())
    assert status == 201, case
    return case["case_no"]


def assert_unchanged(api, case_no, version=1):
    status, case = api.get(f"/api/v1/cases/{case_no}")
    assert status == 200 and case["version"] == version, case["events"][-1]


# ----------------------------------------------------------------------------- item 5: sizes


def test_json_bodies_beyond_their_limit_are_413_in_chinese_before_they_are_parsed(centre):
    clerk = centre["clerk"]
    answers = {f"Q{i}": "是" for i in range(1_000_000)}  # the 13 MB of the report
    body = json.dumps({"bundle": "YJS-XSECS", "answers": answers}).encode()
    assert len(body) > 13 * MB
    status, size, answer = clerk.raw("POST", "/api/v1/guide", body)
    assert status == 413 and answer["error"]["code"] == "too_large"
    assert "1 MB" in answer["error"]["message"] and size < 1000
    case_no = registered(clerk)
    status, _, answer = clerk.raw("POST", f"/api/v1/cases/{case_no}/reject",
                                  json.dumps({"reason": "不" * (MB // 2)}).encode())  # 1.5 MB of UTF-8
    assert status == 413 and "最多接受 1 MB" in answer["error"]["message"]
    assert_unchanged(clerk, case_no)


def test_forms_beyond_their_limit_are_413_pages_and_uploads_keep_their_own_limits(centre):
    clerk, base = centre["clerk"], centre["base"]
    case_no = registered(clerk)
    window = Browser(base, "li")
    status, page = window.post(f"/cases/{case_no}/reject", {"reason": "不予受理", "note": "x" * (2 * MB)})
    assert status == 413 and "提交的内容太大" in page and "1 MB" in page
    # a scan: the 20 MB of a file plus the form around it is read and judged by its content ...
    status, page = window.upload(f"/cases/{case_no}/materials/SQB", {"status": "scanned"}, "scan", "big.png",
                                 b"\x89PNG\r\n\x1a\n" + b"\0" * (19 * MB))
    assert status != 413, page[:300]
    # ... and a larger one is refused before it is read
    status, page = window.upload(f"/cases/{case_no}/materials/SQB", {"status": "scanned"}, "scan", "huge.pdf",
                                 b"%PDF-1.4\n" + b"\0" * (22 * MB))
    assert status == 413 and "20 MB" in page
    status, _, answer = clerk.raw("POST", f"/api/v1/cases/{case_no}/materials/SQB",
                                  json.dumps({"status": "copy_received", "note": "x" * (2 * MB)}).encode())
    assert status == 413  # JSON to the upload route: the JSON limit
    assert_unchanged(clerk, case_no)


def test_the_catalogue_upload_keeps_its_setting(centre):
    with db.connection_context(), db.atomic():
        settings.put("catalogue.max_upload_mb", "2")
    officer = Browser(centre["base"], "xian")
    status, page = officer.upload("/catalogue/upload", {}, "workbook", "目录.xlsx", b"PK" + b"\0" * (2 * MB + 1000))
    assert status == 200 and "文件超过 2 MB，未导入" in page  # read, then refused by the page itself
    status, page = officer.upload("/catalogue/upload", {}, "workbook", "目录.xlsx", b"PK" + b"\0" * (4 * MB))
    assert status == 413 and "最多接受 2 MB 的文件" in page


def test_answers_to_questions_the_bundle_does_not_have_are_one_short_error(centre):
    answers = {f"Q{i}": "是" for i in range(100, 50_100)}  # under the body limit: ~0.7 MB
    answers["Q1"] = "是"
    status, size, answer = centre["clerk"].raw("POST", "/api/v1/guide", json.dumps(
        {"bundle": "YJS-XSECS", "answers": answers}).encode())
    assert status == 422 and size < 1000, size
    details = answer["error"]["details"]
    assert details == [{"field": "answers", "message": details[0]["message"]}]
    assert "Q100、Q101、Q102、Q103、Q104 等 50000 个" in details[0]["message"]


def test_the_intake_page_names_many_unknown_questions_in_one_line(centre):
    window = Browser(centre["base"], "li")
    form = {"bundle": "YJS-XSECS", "q.Q1": "是", "q.Q2": "是", "q.Q3": "是", "q.Q4": "已婚", "kind": "person", "p.name": "李娜",
            "p.id_number": MOTHER_ID, "p.phone": PHONE, "action": "register",
            **{f"f.{code}": value for code, value in XSECS_FORM.items()}, **{f"q.Z{i}": "是" for i in range(900)}}
    status, page = window.post("/intake/new", form)
    problems = page.split('id="problems"', 1)[1].split("</div>", 1)[0]
    assert status == 422 and "没有这些编码的问题：Z0、Z1、Z2、Z3、Z4 等 900 个" in problems
    assert problems.count("<li>") < 5 and len(page) < 200_000


def test_the_details_of_any_error_are_capped(seeded_app):
    MAX_DETAILS = 100
    with seeded_app.test_request_context("/api/v1/anything"):
        response, status = json_error(422, "invalid", "很多问题", [{"field": f"f{i}", "message": "错" * 10_000}
                                                               for i in range(100_000)])
    error = response.get_json()["error"]
    assert status == 422 and len(error["details"]) == MAX_DETAILS and error["details_total"] == 100_000
    assert max(len(detail["message"]) for detail in error["details"]) < 250
    assert len(response.get_data()) < 100 * 1024


def test_a_422_quotes_only_the_start_of_a_long_value(centre):
    clerk = centre["clerk"]
    long = "甲" * 10_000
    request = newborn()
    request["applicant"]["phone"] = long
    request["form"]["XSECSRQ"] = long
    request["answers"]["Q2"] = long
    status, size, answer = clerk.raw("POST", "/api/v1/cases", json.dumps(request).encode())
    assert status == 422 and size < 4000, size
    assert "甲" * 21 not in json.dumps(answer, ensure_ascii=False)
    assert "共 10000 字" in json.dumps(answer, ensure_ascii=False)


# ----------------------------------------------------------------------------- item 8: 500 → 4xx


@pytest.mark.parametrize("path", ["/cases", "/matters"])
@pytest.mark.parametrize("page", ["²", "99999999999999999999", "-1", "1_0", "9" * 5000])
def test_odd_page_numbers_on_pages_are_400_with_a_message(centre, path, page):
    window = Browser(centre["base"], "li")
    status, text = window.get(f"{path}?page={urllib.parse.quote(page)}")
    assert status == 400 and "页码应为" in text


@pytest.mark.parametrize("path", ["/cases", "/search", "/intake/new"])
def test_a_long_search_is_repeated_by_its_start_only(centre, path):
    """A 10,000-character query was repeated in full in the heading and the notice (browser walk of issue 7)."""
    window = Browser(centre["base"], "li")
    status, text = window.get(f"{path}?q={urllib.parse.quote('甲' * 10000)}")
    assert status == 200 and "甲…（共 " in text  # its start, and how long the search was
    assert text.count("甲") < 300 and len(text.encode()) < 60_000


def test_an_odd_page_on_the_lists_says_so_without_claiming_there_is_nothing(centre):
    window = Browser(centre["base"], "li")
    status, text = window.get("/cases?page=%C2%B2")
    assert status == 400 and "页码应为" in text and "没有办件" not in text
    status, text = window.get("/matters?page=%C2%B2")
    assert status == 400 and "页码应为" in text and "出生医学证明签发" in text  # the first page, with the message


_ODD_PAGES = ["page=²", "page=99999999999999999999", "page=" + "9" * 5000]
_ODD_PER_PAGE = ["per_page=²", "per_page=1e3"]  # the matters list has a fixed page size


@pytest.mark.parametrize("path,query", [("/api/v1/matters", q) for q in _ODD_PAGES] +
                         [("/api/v1/cases", q) for q in _ODD_PAGES + _ODD_PER_PAGE])
def test_odd_page_numbers_in_the_api_are_400_with_a_message(centre, path, query):
    status, answer = centre["clerk"].get(f"{path}?{urllib.parse.quote(query, safe='=')}")
    assert status == 400 and answer["error"]["code"] == "bad_request" and "应为" in answer["error"]["message"]


@pytest.mark.parametrize("version", ["²", "１²", 99999999999999999999, -1, "99999999999999999999"])
def test_odd_versions_are_400_and_change_nothing(centre, version):
    clerk = centre["clerk"]
    case_no = registered(clerk)
    status, answer = clerk.post(f"/api/v1/cases/{case_no}/materials/HKB",
                                {"status": "copy_received", "copies": 1, "version": version})
    assert status == 400 and answer["error"]["details"][0]["field"] == "version", answer
    assert_unchanged(clerk, case_no)


def test_odd_numbers_in_the_case_forms_are_4xx_with_the_message_on_the_page(centre):
    clerk = centre["clerk"]
    case_no = registered(clerk)
    window = Browser(centre["base"], "li")
    status, page = window.post(f"/cases/{case_no}/materials/HKB", {"status": "copy_received", "copies": "²",
                                                                   "version": "1"})
    assert status == 422 and "份数应为整数，实际为 &#34;²&#34;" in page
    status, page = window.post(f"/cases/{case_no}/materials/HKB", {"status": "copy_received", "copies": "1",
                                                                   "version": "²"})
    assert status == 400 and "版本号应为整数" in page
    status, page = window.post(f"/cases/{case_no}/accept", {"version": "99999999999999999999"})
    assert status == 400 and "版本号应为" in page
    assert_unchanged(clerk, case_no)


@pytest.mark.parametrize("where", ["applicant.name", "applicant.address", "agent.name", "form.XSECSDD",
                                   "answers.Q1", "matters", "bundle", "form.\ud800"])
def test_lone_surrogates_in_a_registration_are_4xx(centre, where):
    clerk = centre["clerk"]
    request = newborn(agent={"name": "张伟", "phone": PHONE, "relation": "父亲"})
    head, _, key = where.partition(".")
    if head == "matters":
        request["matters"].append("WJ-\ud800")
    elif head == "bundle":
        request["bundle"] = "YJS-\ud800"
    elif key == "\ud800":
        request["form"][key] = "x"
    else:
        request[head][key] = "张\ud800"
    body = json.dumps(request).encode()  # "\ud800" as JSON writes it: valid JSON, not encodable text
    assert b"\\ud800" in body
    status, _, answer = clerk.raw("POST", "/api/v1/cases", body)
    assert status in (400, 422) and "无法识别的字符" in answer["error"]["message"], answer
    assert clerk.get("/api/v1/cases")[1]["items"] == []


@pytest.mark.parametrize("where", ["applicant.name", "agent.name", "form.XSEXM", "form.MQXM"])
def test_names_of_only_invisible_characters_are_refused_not_stored_empty(centre, where):
    """A required form field of zero-width spaces was stored as "" (found in the browser walk of issue 7)."""
    clerk = centre["clerk"]
    request = newborn(agent={"name": "张伟", "phone": PHONE, "relation": "父亲"})
    head, _, key = where.partition(".")
    request[head][key] = "\u200b\u200b\u2060"
    status, answer = clerk.post("/api/v1/cases", request)
    assert status == 422, answer
    problem = next(d for d in answer["error"]["details"] if d["field"] == where)
    assert "只含看不见的字符" in problem["message"], problem
    assert clerk.get("/api/v1/cases")[1]["items"] == []


@pytest.mark.parametrize("path, body", [
    ("reject", {"reason": "理由\ud800"}),
    ("reject", {"reason": "不予受理", "refer_to": "\ud800"}),
    ("materials/CSYXZM", {"status": "exempt", "licence_no": "\ud800"}),
    ("materials/HKB", {"status": "copy_received", "note": "\udfff备注"}),
])
def test_lone_surrogates_in_reasons_and_notes_are_4xx(centre, path, body):
    clerk = centre["clerk"]
    case_no = registered(clerk)
    status, _, answer = clerk.raw("POST", f"/api/v1/cases/{case_no}/{path}", json.dumps(body).encode())
    assert status in (400, 422) and "无法识别的字符" in answer["error"]["message"], answer
    assert_unchanged(clerk, case_no)


def test_json_nested_100000_deep_is_400(centre):
    clerk = centre["clerk"]
    case_no = registered(clerk)
    deep = b'{"reason": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for path in ("/api/v1/guide", "/api/v1/cases", f"/api/v1/cases/{case_no}/reject"):
        status, _, answer = clerk.raw("POST", path, deep)
        assert status == 400 and "嵌套" in answer["error"]["message"], (path, answer)
    assert_unchanged(clerk, case_no)


@pytest.mark.parametrize("task", ["99999999999999999999", "9223372036854775808", "9" * 5000])
def test_integers_beyond_sqlite_in_a_url_are_404(centre, task):
    status, answer = centre["admin"].post(f"/api/v1/rectifications/{task}/close", {"resolution": "已回访"})
    assert status == 404 and answer["error"]["message"]
    window = Browser(centre["base"], "boss")
    status, page = window.post(f"/cases/rectifications/{task}/close", {"resolution": "已回访"})
    assert status == 404 and "没有找到" in page


# ----------------------------------------------------------------------------- item 10: 容缺 due date


def test_a_deferral_date_is_after_today_and_within_a_year(centre):
    clerk = centre["clerk"]
    status, case = clerk.post("/api/v1/cases", {
        "matters": ["JT-0101"],
        "applicant": {"kind": "company", "name": "安澜货运有限公司", "credit_code": "91350100M000100Y43",
                      "phone": PHONE},
        "form": {"QYMC": "安澜货运有限公司", "TYSHXYDM": "91350100M000100Y43", "JBRXM": "赵六",
                 "YSLB": "普通货运", "CLSL": 3, "FDDBR": "赵五"}})
    assert status == 201, case
    path = f"/api/v1/cases/{case['case_no']}/materials/AQZD"
    today = date.today()
    for bad in (today, today - timedelta(days=1), today + timedelta(days=367), date(9999, 12, 31)):
        status, answer = clerk.post(path, {"status": "deferred", "deferred_until": bad.isoformat()})
        assert status == 422, (bad, answer)
        assert answer["error"]["details"] == [{"field": "deferred_until", "message": answer["error"]["message"]}]
        assert "后补日期" in answer["error"]["message"] and "一年内" in answer["error"]["message"]
    assert_unchanged(clerk, case["case_no"])
    month = (today + timedelta(days=30)).isoformat()
    status, answer = clerk.post(path, {"status": "deferred", "deferred_until": month})
    assert status == 200 and answer["deferred_until"] == month, answer
