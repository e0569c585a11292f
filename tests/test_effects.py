"""The effects report (减材料、减表单、减时限、减跑动), its page, and the guide and report API over HTTP."""
import json
import re
import urllib.error
import urllib.request

import pytest

from county_app import accounts, reports
from county_app.catalogue import store
from county_app.db import db
from county_app.models import CatalogueVersion

from conftest import PASSWORD, login
from workbooks import Book


def build_book():
    """B01 = M001, M002 and M003 (only when Q1=否); B02 = M001 and the 停用 M004.

    By hand, from tests/workbooks.py and the rows below:
    B01 materials: M001 C01(电子证照); M002 C01, C02(数据共享); M003 C01(电子证照), C03(告知承诺)
        → 5 rows; codes C01 (M002 wants the paper, so no merged waiver), C02 (fetched), C03 → 2 after.
    B01 fields: M001 F01(预填); M002 F01(预填), F02; M003 F03(预填), F04 → 5 rows; F02, F04 → 2 after.
    B01 days 20+10+15 = 45 serial, max(5, 0, 10) = 10 parallel; visits 2+1+2 = 5.
    B02 materials: M001 C01(电子证照); M004 C02(数据共享) → 2 rows, 0 after.
    B02 fields: M001 F01(预填); M004 F02 → 2 rows, 1 after. Days 20+0, max(5, 0); visits 2+3.
    """
    book = Book()
    book.append("事项", ["M003", "城乡居民医保参保登记", "公共服务", "县医疗保障局", "承诺件", 15, 10, 2,
                       "不收费", "参保凭证", "", "", "启用"])
    book.append("事项", ["M004", "生育登记", "公共服务", "县卫生健康局", "即办件", 0, 0, 3, "", "", "", "", "停用"])
    book.append("材料", ["M003", "C01", "父母身份证", "复印件", 1, "纸质", "政府部门核发", "必要", "电子证照", None])
    book.append("材料", ["M003", "C03", "房屋租赁合同", "复印件", 1, "纸质", "申请人自备", "必要", "告知承诺", None])
    book.append("材料", ["M004", "C02", "结婚证", "原件", 1, "纸质", "政府部门核发", "必要", "数据共享", None])
    book.append("表单", ["M003", "F03", "联系电话", "手机号", "是", None, "申请人.手机号"])
    book.append("表单", ["M003", "F04", "新生儿姓名", "文本", "是", None, None])
    book.append("表单", ["M004", "F02", "新生儿性别", "单选", "是", "男|女", None])
    book.append("一件事", ["B02", "生育服务一件事", "县卫生健康局", "个人", "", "启用"])
    book.append("一件事事项", ["B01", "M003", "可选", "Q1=否", 3])
    book.append("一件事事项", ["B02", "M001", "必选", None, 1])
    book.append("一件事事项", ["B02", "M004", "可选", None, 2])
    return book


EXPECTED = [
    {"bundle": "B01", "name": "新生儿出生一件事", "materials_before": 5, "materials_after": 2, "fields_before": 5,
     "fields_after": 2, "statutory_days_serial": 45, "promised_days_parallel": 10, "visits_before": 5,
     "visits_after": 1},
    {"bundle": "B02", "name": "生育服务一件事", "materials_before": 2, "materials_after": 0, "fields_before": 2,
     "fields_after": 1, "statutory_days_serial": 20, "promised_days_parallel": 5, "visits_before": 5,
     "visits_after": 1},
]


@pytest.fixture
def catalogued(app, tmp_path):
    with db.connection_context():
        outcome = store.import_workbook(build_book().save(tmp_path / "catalogue.xlsx"), actor="test")
    assert not outcome.errors, outcome.errors
    return app


def test_counts_match_the_hand_computed_ones(catalogued):
    with db.connection_context():
        assert reports.effects() == EXPECTED


def test_keys_are_exactly_those_of_the_interface(catalogued):
    with db.connection_context():
        assert all(tuple(row) == reports.EFFECT_KEYS for row in reports.effects())


def test_a_given_version_is_reported(catalogued, tmp_path):
    book = build_book().set("目录信息", 2, "内容", "2026.12-01").set("事项", 2, "到现场次数", 4)
    with db.connection_context():
        old = CatalogueVersion.in_force()
        assert not store.import_workbook(book.save(tmp_path / "new.xlsx"), actor="test").errors
        assert reports.effects()[0]["visits_before"] == 7
        assert reports.effects(old) == EXPECTED


def test_no_catalogue_no_rows(app):
    with db.connection_context():
        assert reports.effects() == []


def test_the_seed_newborn_bundle(seeded_app):
    with db.connection_context():
        rows = reports.effects()
    assert len(rows) == 13
    newborn = next(row for row in rows if row["bundle"] == "YJS-XSECS")
    # 6 matters: 4+5+9+6+6+5 material rows (出生登记 asks for 结婚证 or, unmarried, the 非婚生育说明 and
    # perhaps a 亲子鉴定证明, each matter the agent's 授权委托书 and 代理人身份证件: conditions ignored),
    # 11 codes less the fetched 出生医学证明; 11+7+12+7+6+8 field rows, 18 codes less 6 prefilled (4 from
    # the applicant as before, 持卡人姓名 and 参保人姓名 from the baby's; the parents' fill from the parent
    # who applies, which the catalogue alone does not know: not counted); 社会保障卡申领 and
    # 医保参保登记 take 10 working days each by 《社会保险经办条例》第六条 (5 and 0 promised).
    assert newborn == {"bundle": "YJS-XSECS", "name": "新生儿出生一件事", "materials_before": 35, "materials_after": 10,
                       "fields_before": 51, "fields_after": 12, "statutory_days_serial": 20,
                       "promised_days_parallel": 5, "visits_before": 7, "visits_after": 1}


def test_the_page_shows_before_after_and_reductions(catalogued, make_user):
    make_user("li", "clerk")
    client = catalogued.test_client()
    assert login(client, "li").status_code == 302
    assert "改革成效" in client.get("/").get_data(as_text=True)  # the menu link
    page = client.get("/reports/effects").get_data(as_text=True)
    assert "申请材料" in page and "到现场次数" in page and "生育服务一件事" in page
    assert "减少 60%" in page and "减少 78%" in page and "减少 80%" in page  # 5→2, 45→10, 5→1
    assert "减少 100%" in page  # B02 materials 2→0


def test_the_page_without_a_catalogue_says_what_to_do(app, make_user):
    make_user("zhou", "county")
    client = app.test_client()
    assert login(client, "zhou").status_code == 302
    answer = client.get("/reports/effects")
    assert answer.status_code == 200 and "还没有导入事项目录" in answer.get_data(as_text=True)


# ----------------------------------------------------------------------------- the API over HTTP


def call(url, *, token=None, body=None, raw=None):
    """(status, parsed JSON) of a request; ``body`` is sent as JSON, ``raw`` as it is."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


@pytest.fixture
def token(live_server):
    with db.connection_context(), db.atomic():
        accounts.add_user("wang", "clerk", PASSWORD, actor="test")
        return accounts.issue_token("wang", actor="test").token


def test_effects_api(live_server, token):
    status, rows = call(f"{live_server}/api/v1/reports/effects", token=token)
    assert status == 200 and len(rows) == 13
    # The interface's keys, and the cases of the period beside them (fields are added, never removed).
    assert all(set(row) == {*reports.EFFECT_KEYS, "actual"} for row in rows)
    assert rows[0]["bundle"] == "YJS-XSECS" and rows[0]["materials_before"] == 35
    status, answer = call(f"{live_server}/api/v1/reports/effects")
    assert status == 401 and answer["error"]["code"] == "unauthorized"


def test_the_bundle_page_and_the_report_count_alike(live_server, token):
    """Every seed bundle's page shows the report's 合并前 → 合并后 (YJS-KBCY once said 39 → 17 against 16)."""
    from web_client import WebClient

    status, rows = call(f"{live_server}/api/v1/reports/effects", token=token)
    assert status == 200
    browser = WebClient(live_server)
    assert browser.login("wang")[0] == 302
    for row in rows:
        status, _, page = browser.get(f"/bundles/{row['bundle']}")
        assert status == 200
        shown = re.findall(r'<span class="total-value">(\d+) → (\d+) 项</span>', page)
        assert shown == [(str(row["materials_before"]), str(row["materials_after"])),
                         (str(row["fields_before"]), str(row["fields_after"]))], row["bundle"]
        _, bundle = call(f"{live_server}/api/v1/bundles/{row['bundle']}", token=token)
        assert {key: bundle["totals"][key] for key in reports.EFFECT_KEYS[2:]} == \
            {key: row[key] for key in reports.EFFECT_KEYS[2:]}
    kbcy = next(row for row in rows if row["bundle"] == "YJS-KBCY")
    assert (kbcy["materials_before"], kbcy["materials_after"]) == (53, 18)  # 39 → 16 before the agent's papers


def test_guide_api(live_server, token):
    url = f"{live_server}/api/v1/guide"
    status, answer = call(url, token=token, body={"bundle": "YJS-KBCY",
                                                  "answers": {"Q1": "新办个体工商户", "Q2": "是", "Q3": "否", "Q4": "否"}})
    assert status == 200
    assert [m["code"] for m in answer["matters"]] == ["SJ-0202", "SJ-0301", "CG-0101"]
    lease = [m for m in answer["materials"] if m["code"] == "CSSYZM"]
    assert len(lease) == 1 and lease[0]["waiver"] == "commitment" and lease[0]["required"] is True
    assert answer["questions"] == [] and answer["totals"]["visits_after"] == 1

    status, answer = call(url, token=token, body={"matters": ["GA-0101"]})
    assert status == 200 and answer["bundle"] is None and answer["matters"][0]["code"] == "GA-0101"

    assert call(url, body={"bundle": "YJS-KBCY", "answers": {}})[0] == 401


BAD_GUIDE_REQUESTS = [
    ({"bundle": "YJS-KBCY", "answers": {"Q1": "开网店"}}, 422, "invalid", "answers.Q1"),
    ({"bundle": "YJS-KBCY", "answers": {"Q1": "新办企业", "Q2": "否", "Q3": "否", "Q4": "否"}, "matters": []},
     422, "invalid", "matters"),
    ({"matters": ["NO-SUCH"]}, 422, "invalid", "matters"),
    ({"bundle": "YJS-NONE", "answers": {}}, 404, "not_found", None),
    ({"bundle": 5, "answers": {}}, 400, "bad_request", "bundle"),
    ({"bundle": "YJS-KBCY", "answers": ["Q1"]}, 400, "bad_request", "answers"),
    ({"bundle": "YJS-KBCY", "answers": {"Q1": True}}, 400, "bad_request", "answers"),
    ({"bundle": "YJS-KBCY", "matters": "SJ-0301"}, 400, "bad_request", "matters"),
    ({"answers": {}}, 400, "bad_request", "bundle"),
    ([1, 2], 400, "bad_request", None),
]


def test_guide_api_errors(live_server, token):
    # One server for every case: each live server costs a seeded database.
    for body, status, code, field in BAD_GUIDE_REQUESTS:
        got, answer = call(f"{live_server}/api/v1/guide", token=token, body=body)
        assert (got, answer["error"]["code"]) == (status, code), body
        if field:
            assert field in [d["field"] for d in answer["error"]["details"]], body
    status, answer = call(f"{live_server}/api/v1/guide", token=token, raw=b'{"bundle": "YJS-KBCY",')
    assert status == 400 and answer["error"]["code"] == "bad_request"  # malformed JSON
