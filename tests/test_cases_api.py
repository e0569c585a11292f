"""The cases API against a real waitress server with bearer tokens: the whole window flow of
story 1 and every error status (400, 401, 403, 404, 409, 422)."""
import json
import urllib.error
import urllib.request
import uuid

import pytest

from county_app import accounts, settings
from county_app.db import db

from test_cases_domain import CENTRE, MOTHER_ID, PHONE, newborn
from conftest import sample_pdf


class Api:
    """A small JSON client for ``live_server`` with one user's bearer token."""

    def __init__(self, base, token):
        self.base, self.token = base, token

    def call(self, method, path, body=None, *, raw=None, headers=None, content_type="application/json"):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                status, text, answer_headers = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            with error:
                status, text, answer_headers = error.code, error.read().decode(), error.headers
        return status, (json.loads(text) if text else None), answer_headers

    def get(self, path, **kw):
        return self.call("GET", path, **kw)[:2]

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)[:2]

    def upload(self, path, field, filename, data, **fields):
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
                 for key, value in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.call("POST", path, raw=body, content_type=f"multipart/form-data; boundary={boundary}")[:2]


@pytest.fixture
def apis(live_server, make_user):
    """Bearer clients: clerk, admin, department users of 公安 and 卫健; and one without a token."""
    people = {"clerk": ("li", "clerk", None), "admin": ("boss", "admin", None),
              "police": ("gaj", "department", "县公安局"), "health": ("wjj", "department", "县卫生健康局")}
    for username, role, department in people.values():
        make_user(username, role, department=department)
    clients = {}
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        for key, (username, _, _) in people.items():
            clients[key] = Api(live_server, accounts.issue_token(username, actor="test").token)
    clients["anonymous"] = Api(live_server, None)
    clients["forged"] = Api(live_server, "not-a-real-token")
    yield clients


def error_code(answer):
    return answer["error"]["code"]


def test_whole_window_flow(apis):
    clerk, police, health, admin = apis["clerk"], apis["police"], apis["health"], apis["admin"]
    status, case = clerk.post("/api/v1/cases", newborn())
    assert status == 201, case
    case_no = case["case_no"]
    assert case["status"] == "registered" and case["applicant"]["id_number"] == "331128********1243"
    assert MOTHER_ID not in json.dumps(case)
    assert [i["matter"] for i in case["items"]] == ["WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "WJ-0103"]
    assert {m["code"]: m["required"] for m in case["materials"]}["JHZ"] is True

    status, found = clerk.get(f"/api/v1/cases?q={PHONE}")
    assert status == 200 and [row["case_no"] for row in found["items"]] == [case_no]
    assert found["items"][0]["phone"] == "138****8000"

    for code, body in (("JMSFZ", {"status": "original_verified"}),
                       ("HKB", {"status": "copy_received", "copies": 1}),
                       ("CSYXZM", {"status": "exempt", "licence_no": "DZZZ-2026-0001"})):
        status, answer = clerk.post(f"/api/v1/cases/{case_no}/materials/{code}", body)
        assert status == 200 and answer["status"] == body["status"], answer
    status, answer = clerk.upload(f"/api/v1/cases/{case_no}/materials/SQB", "scan", "申请表.pdf", sample_pdf(2))
    assert status == 200 and answer["status"] == "scanned" and answer["pages"] == 2, answer

    status, answer = clerk.post(f"/api/v1/cases/{case_no}/accept")
    assert status == 409 and error_code(answer) == "materials_missing"
    assert answer["error"]["details"] == [{"material": "JHZ", "name": "结婚证"}]
    status, case = clerk.get(f"/api/v1/cases/{case_no}")
    assert case["status"] == "correction" and [n["kind"] for n in case["notices"]] == ["receipt", "correction"]

    clerk.post(f"/api/v1/cases/{case_no}/materials/JHZ", {"status": "original_verified"})
    status, accepted = clerk.post(f"/api/v1/cases/{case_no}/accept", {})
    assert status == 200 and accepted["status"] == "accepted", accepted
    assert accepted["accepted_on"] and accepted["due_date"] == max(i["due_date"] for i in accepted["items"])

    status, answer = clerk.post(f"/api/v1/cases/{case_no}/items/RS-0101/suspend", {"reason": "检验", "on_behalf": False})
    assert status == 422 and answer["error"]["details"][0]["field"] == "on_behalf"  # a clerk records only 窗口代录
    assert "依县人力资源和社会保障局书面决定代录" in answer["error"]["message"]
    # interfaces.md's body has no on_behalf: a clerk's call without it is 窗口代录
    status, answer = clerk.post(f"/api/v1/cases/{case_no}/items/RS-0101/suspend", {"reason": "检验"})
    assert status == 200 and next(i for i in answer["items"] if i["matter"] == "RS-0101")["status"] == "suspended"
    status, answer = clerk.post(f"/api/v1/cases/{case_no}/items/RS-0101/resume", {"on_behalf": True})
    assert status == 200 and next(i for i in answer["items"] if i["matter"] == "RS-0101")["status"] == "pending"

    status, answer = police.post(f"/api/v1/cases/{case_no}/items/WJ-0101/result", {"outcome": "approved"})
    assert status == 403 and error_code(answer) == "forbidden"
    status, answer = police.post(f"/api/v1/cases/{case_no}/items/GA-0101/result",
                                 {"outcome": "approved", "result_no": "HJ-2026-0001"})
    assert status == 200 and answer["status"] == "accepted"
    for code in ("WJ-0101", "WJ-0102", "WJ-0103"):
        assert health.post(f"/api/v1/cases/{case_no}/items/{code}/result", {"outcome": "approved"})[0] == 200
    status, answer = clerk.post(f"/api/v1/cases/{case_no}/items/RS-0101/result",
                                {"outcome": "approved", "result_no": "SBK-1", "note": "已制卡", "on_behalf": True})
    assert status == 200 and answer["status"] == "concluded"
    results = {i["matter"]: i["result"]["on_behalf"] for i in answer["items"]}
    assert results == {"WJ-0101": None, "WJ-0102": None, "GA-0101": None, "RS-0101": "县人力资源和社会保障局", "WJ-0103": None}
    assert [e["detail"].get("on_behalf") for e in answer["events"] if e["action"] in ("suspend", "resume")] == \
        ["县人力资源和社会保障局"] * 2

    status, answer = clerk.post(f"/api/v1/cases/{case_no}/deliver", {"method": "mail"})
    assert status == 422 and answer["error"]["details"][0]["field"] == "tracking_no"
    status, answer = clerk.post(f"/api/v1/cases/{case_no}/deliver", {"method": "window"})
    assert status == 200 and answer["status"] == "delivered"

    status, answer = clerk.post(f"/api/v1/cases/{case_no}/evaluation", {"rating": 2, "comment": "等太久"})
    assert status == 200 and answer["evaluation"]["rectification"]["status"] == "open"
    status, answer = clerk.get("/api/v1/rectifications")
    assert status == 403
    status, tasks = admin.get("/api/v1/rectifications")
    assert status == 200 and [t["case_no"] for t in tasks] == [case_no]
    status, closed = admin.post(f"/api/v1/rectifications/{tasks[0]['id']}/close", {"resolution": "已回访致歉"})
    assert status == 200 and closed["status"] == "closed"

    status, case = clerk.get(f"/api/v1/cases/{case_no}")
    actions = [e["action"] for e in case["events"]]
    assert actions[0] == "register" and actions[-1] == "rectify"
    assert all(set(e) >= {"at", "actor", "action", "from", "to"} for e in case["events"])
    assert [n["kind"] for n in case["notices"]] == ["receipt", "correction", "acceptance", "completion"]
    status, revealed = clerk.post(f"/api/v1/cases/{case_no}/id-number")
    assert status == 200 and revealed["id_number"] == MOTHER_ID
    assert clerk.get(f"/api/v1/cases/{case_no}")[1]["events"][-1]["action"] == "view_id"


def test_authentication_and_roles(apis):
    assert apis["anonymous"].get("/api/v1/cases")[0] == 401
    status, answer = apis["forged"].post("/api/v1/cases", newborn())
    assert status == 401 and error_code(answer) == "unauthorized"
    status, answer = apis["police"].post("/api/v1/cases", newborn())
    assert status == 403 and error_code(answer) == "forbidden"
    status, case = apis["clerk"].post("/api/v1/cases", newborn())
    status, answer = apis["clerk"].post(f"/api/v1/cases/{case['case_no']}/accept",
                                        {"override_reason": "我想再补正一次"})
    assert status == 403


def test_bad_requests_are_400(apis):
    clerk = apis["clerk"]
    status, answer = clerk.post("/api/v1/cases", raw=b"{not json", body=None)
    assert status == 400 and error_code(answer) == "bad_request"
    for body in ([1, 2], newborn(applicant="李娜"), newborn(matters="WJ-0101"), newborn(form=[1])):
        assert clerk.post("/api/v1/cases", body)[0] == 400, body
    status, case = clerk.post("/api/v1/cases", newborn())
    case_no = case["case_no"]
    assert clerk.post(f"/api/v1/cases/{case_no}/materials/HKB", {"status": "copy_received", "copies": "two"})[0] == 400
    assert clerk.post(f"/api/v1/cases/{case_no}/materials/HKB", {"status": 1})[0] == 400
    assert clerk.call("POST", f"/api/v1/cases/{case_no}/materials/JMSFZ", {"status": "original_verified"},
                      headers={"If-Match": "yesterday"})[0] == 400
    assert clerk.upload(f"/api/v1/cases/{case_no}/materials/SQB", "file", "a.pdf", sample_pdf(1))[0] == 400
    assert clerk.get("/api/v1/cases?page=0")[0] == 400


def test_unknown_things_are_404(apis):
    clerk = apis["clerk"]
    assert clerk.get("/api/v1/cases/3311281010002026010100001")[0] == 404
    status, case = clerk.post("/api/v1/cases", newborn())
    status, answer = clerk.post(f"/api/v1/cases/{case['case_no']}/materials/NOPE", {"status": "original_verified"})
    assert status == 404 and error_code(answer) == "not_found"
    assert clerk.post(f"/api/v1/cases/{case['case_no']}/items/XX-0000/result", {"outcome": "approved"})[0] == 404
    assert apis["admin"].post("/api/v1/rectifications/999/close", {"resolution": "x"})[0] == 404


def test_state_conflicts_are_409(apis):
    clerk = apis["clerk"]
    status, case = clerk.post("/api/v1/cases", newborn())
    case_no = case["case_no"]
    status, answer = clerk.post(f"/api/v1/cases/{case_no}/items/WJ-0101/result", {"outcome": "approved",
                                                                                 "on_behalf": True})
    assert status == 409 and error_code(answer) == "wrong_state"
    status, answer, headers = clerk.call("GET", f"/api/v1/cases/{case_no}")
    assert headers["ETag"] == '"1"'
    status, answer = clerk.call("POST", f"/api/v1/cases/{case_no}/materials/JMSFZ", {"status": "original_verified"},
                                headers={"If-Match": '"1"'})[:2]
    assert status == 200 and answer["case_version"] == 2
    status, answer = clerk.post(f"/api/v1/cases/{case_no}/materials/SQB", {"status": "original_verified", "version": 1})
    assert status == 409 and error_code(answer) == "stale" and "刷新" in answer["error"]["message"]
    assert clerk.post(f"/api/v1/cases/{case_no}/reject", {"reason": "不属于本机关职权范围"})[0] == 200
    status, answer = clerk.post(f"/api/v1/cases/{case_no}/accept")
    assert status == 409 and error_code(answer) == "wrong_state"
    assert clerk.post(f"/api/v1/cases/{case_no}/evaluation", {"rating": 5})[0] == 409


def test_reject_with_the_authority_to_apply_to(apis):
    clerk = apis["clerk"]
    case_no = clerk.post("/api/v1/cases", newborn())[1]["case_no"]
    status, answer = clerk.post(f"/api/v1/cases/{case_no}/reject",
                                {"reason": "不属于本中心受理范围", "refer_to": "县" * 101})
    assert status == 422 and error_code(answer) == "invalid"
    assert answer["error"]["details"][0]["field"] == "refer_to" and "应向何机关申请" in answer["error"]["message"]
    status, case = clerk.get(f"/api/v1/cases/{case_no}")
    assert case["status"] == "registered" and case["version"] == 1
    assert [n["kind"] for n in case["notices"]] == ["receipt"]
    assert [e["action"] for e in case["events"]] == ["register"]
    assert clerk.post(f"/api/v1/cases/{case_no}/reject", {"reason": "不属于", "refer_to": 5})[0] == 400

    status, answer = clerk.post(f"/api/v1/cases/{case_no}/reject",
                                {"reason": "不属于本中心受理范围", "refer_to": " 安澜县市场监督管理局 ", "version": 1})
    assert status == 200 and answer["status"] == "rejected", answer
    assert answer["events"][-1]["action"] == "reject"
    assert answer["events"][-1]["detail"]["refer_to"] == "安澜县市场监督管理局"
    request = urllib.request.Request(f"{clerk.base}/cases/{case_no}/notices/rejection?noprint=1",
                                     headers={"Authorization": f"Bearer {clerk.token}"})
    with urllib.request.urlopen(request, timeout=20) as response:
        html = response.read().decode()
    assert "该申请事项依法不属于本机关职权范围，请向安澜县市场监督管理局申请。" in html


def test_invalid_values_are_422(apis):
    clerk = apis["clerk"]
    status, answer = clerk.post("/api/v1/cases", newborn(applicant={
        "kind": "person", "name": "李娜", "id_number": "331128199003071244", "phone": "12345"}))
    assert status == 422 and error_code(answer) == "invalid"
    assert {"applicant.id_number", "applicant.phone"} <= {d["field"] for d in answer["error"]["details"]}
    status, answer = clerk.post("/api/v1/cases", newborn(answers={"Q1": "是", "Q2": "否", "Q3": "是", "Q4": "已婚"}))
    assert status == 422 and "matters" in {d["field"] for d in answer["error"]["details"]}
    status, case = clerk.post("/api/v1/cases", newborn())
    case_no = case["case_no"]
    status, answer = clerk.post(f"/api/v1/cases/{case_no}/materials/JMSFZ", {"status": "exempt", "licence_no": "1"})
    assert status == 422 and answer["error"]["details"][0]["field"] == "status"
    status, answer = clerk.upload(f"/api/v1/cases/{case_no}/materials/SQB", "scan", "fake.pdf", b"plain text " * 20)
    assert status == 422
    assert clerk.get("/api/v1/cases?status=lost")[0] == 422
    assert clerk.post(f"/api/v1/cases/{case_no}/reject", {})[0] == 422


@pytest.mark.parametrize("reason", [" ", "", "\u3000\t"])
def test_a_blank_override_reason_is_422_and_accepts_nothing(apis, reason):
    """An administrator sending a blank reason once got an ordinary acceptance (issue 7, item 2)."""
    status, case = apis["clerk"].post("/api/v1/cases", newborn())
    case_no = case["case_no"]
    status, answer = apis["admin"].post(f"/api/v1/cases/{case_no}/accept", {"override_reason": reason})
    assert status == 422 and answer["error"]["details"][0]["field"] == "override_reason"
    after = apis["clerk"].get(f"/api/v1/cases/{case_no}")[1]
    assert after["status"] == "registered" and after["version"] == case["version"]
    assert after["notices"] == case["notices"]


def test_who_may_accept_and_override_is_one_rule_for_every_role(apis):
    status, case = apis["clerk"].post("/api/v1/cases", newborn())
    path = f"/api/v1/cases/{case['case_no']}/accept"
    for role in ("admin", "police"):  # neither handles cases at the window
        status, answer = apis[role].post(path)
        assert status == 403 and error_code(answer) == "forbidden", role
    assert apis["police"].post(path, {"override_reason": "材料要求有变化"})[0] == 403
    # the clerk's first acceptance sends the incomplete case to correction; then only an admin may override
    assert error_code(apis["clerk"].post(path)[1]) == "materials_missing"
    assert apis["clerk"].post(path, {"override_reason": "材料要求有变化"})[0] == 403
    status, answer = apis["admin"].post(path, {"override_reason": "材料要求有变化"})
    assert status == 409 and error_code(answer) == "materials_missing"
    kinds = [n["kind"] for n in apis["clerk"].get(f"/api/v1/cases/{case['case_no']}")[1]["notices"]]
    assert kinds == ["receipt", "correction", "correction"]
