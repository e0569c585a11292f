"""Which cases each role sees (``intake/visibility.py``): a department only the cases holding its matters.

A county of two cases: Ms Li's newborn (卫健, 公安, 人社; accepted two months
ago, so late now) and Mr Zhao's noodle shop (市场监管, 城管). The 公安 officer
sees the first only, the 市场监管 officer the second only, the clerk and the
administrator both. Checked through the real waitress server with bearer
tokens (search, list, show, the ID number, an item's result), through the
pages with a logged-in department user (办件查询, 今日办件, 逾期督办, the case
page, its notices, 显示完整证件号, a print), and in chromium (the case page as
a department user; screenshot at 1366×768 in /tmp/visibility-department-case.png).
A case outside the scope answers 404 in the same words as an unknown number.
"""
import json
import re
from urllib.parse import urlencode
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from county_app import accounts, settings
from county_app.db import db
from county_app.intake import cases, lists, materials, visibility, workflow
from county_app.intake.records import CaseEvent
from county_app.models import User

from conftest import ON_BOTH, browser_login, login
from plans import query_plan
from test_cases_api import Api
from test_cases_domain import CENTRE, MOTHER_ID, PHONE, newborn, supply_all_but_marriage_certificate
from test_notices import CREDIT_CODE, restaurant

UNKNOWN = "331128101000209901010001"
PEOPLE = {"clerk": ("li", "clerk", None), "admin": ("boss", "admin", None),
          "police": ("gaj", "department", "县公安局"), "market": ("scj", "department", "县市场监督管理局"),
          "county": ("xian", "county", None)}


@pytest.fixture
def county(seeded_app, live_server, make_user):
    """The two cases, bearer clients for every role (``api``) and logged-in page clients (``pages``)."""
    for username, role, department in PEOPLE.values():
        make_user(username, role, department=department)
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        clerk = User.get(User.username == "li")
        newborn_case = cases.register_case(**newborn(), actor=clerk)
        supply_all_but_marriage_certificate(newborn_case.case_no, clerk)
        materials.log_material(newborn_case.case_no, "JHZ", "original_verified", actor=clerk)
        workflow.accept_case(newborn_case.case_no, actor=clerk, today=date.today() - timedelta(days=60))
        shop = cases.register_case(**restaurant(), actor=clerk)
        api = {key: Api(live_server, accounts.issue_token(username, actor="test").token)
               for key, (username, _, _) in PEOPLE.items()}
    pages = {}
    for key, (username, _, _) in PEOPLE.items():
        pages[key] = seeded_app.test_client()
        assert login(pages[key], username).status_code == 302
    return SimpleNamespace(newborn=newborn_case.case_no, shop=shop.case_no, api=SimpleNamespace(**api),
                           pages=SimpleNamespace(**pages), base=live_server)


def search(client, **query):
    """``GET /api/v1/cases`` with ``query`` (encoded); the answer."""
    status, answer = client.get("/api/v1/cases?" + urlencode(query))
    assert status == 200, answer
    return answer


def numbers(answer):
    return [row["case_no"] for row in answer["items"]]


def unknown_words(case_no):
    return f"没有编号为 {case_no} 的办件"


def events_of(case_no, action):
    with db.connection_context():
        return [json.loads(e.detail or "{}") for e in CaseEvent.select().join(cases.Case)
                .where((cases.Case.case_no == case_no) & (CaseEvent.action == action))]


# ----------------------------------------------------------------------------- the API, bearer tokens


@ON_BOTH  # a hub's department users, on PostgreSQL too
def test_a_department_finds_only_the_cases_holding_its_matters(county):
    market, police, clerk = county.api.market, county.api.police, county.api.clerk
    assert numbers(market.get("/api/v1/cases")[1]) == [county.shop]
    assert numbers(police.get("/api/v1/cases")[1]) == [county.newborn]
    assert numbers(clerk.get("/api/v1/cases")[1]) == [county.shop, county.newborn]
    assert numbers(county.api.admin.get("/api/v1/cases")[1]) == [county.shop, county.newborn]
    for q in ("李娜", "李", MOTHER_ID, PHONE, "138-0013-8000", county.newborn):
        found = search(market, q=q)
        assert found["items"] == [] and found["has_more"] is False, q
        assert numbers(search(police, q=q)) == [county.newborn], q
        assert numbers(search(clerk, q=q)) == [county.newborn], q
    assert numbers(search(market, q=CREDIT_CODE)) == [county.shop]
    day = county.newborn[:20]  # the first digits of the case number: both cases, registered today
    assert numbers(search(market, q=day)) == [county.shop] and numbers(search(police, q=day)) == [county.newborn]
    assert numbers(search(clerk, q=day)) == [county.shop, county.newborn]
    assert search(police, q=CREDIT_CODE)["items"] == []
    assert search(market, status="accepted")["items"] == []
    assert numbers(search(police, status="accepted")) == [county.newborn]
    assert county.api.county.get("/api/v1/cases")[0] == 403  # a role without cases.view, as before


def test_a_case_outside_the_scope_is_404_in_the_words_of_an_unknown_case(county):
    market, police = county.api.market, county.api.police
    status, unknown = market.get(f"/api/v1/cases/{UNKNOWN}")
    assert status == 404 and unknown["error"]["message"] == unknown_words(UNKNOWN)
    for method, path, body in (("GET", "", None), ("POST", "/id-number", None),
                               ("POST", "/items/GA-0101/result", {"outcome": "approved"}),
                               ("POST", "/items/GA-0101/suspend", {"reason": "检验"}),
                               ("POST", "/accept", {}), ("POST", "/materials/JHZ", {"status": "original_verified"})):
        status, answer, _headers = market.call(method, f"/api/v1/cases/{county.newborn}{path}", body)
        assert status in (403, 404), (method, path, answer)
        if status == 403:  # refused for the role before any case is looked at: says nothing of the case
            assert county.newborn not in json.dumps(answer, ensure_ascii=False) and path in ("/accept", "/materials/JHZ")
        else:
            assert answer["error"] == {"code": "not_found", "message": unknown_words(county.newborn), "details": []}
    status, answer = police.get(f"/api/v1/cases/{county.shop}")
    assert status == 404 and answer["error"]["message"] == unknown_words(county.shop)
    assert events_of(county.newborn, "view_id") == [] and events_of(county.newborn, "result") == []
    status, case = police.get(f"/api/v1/cases/{county.newborn}")
    assert status == 200 and case["applicant"]["id_number"] == "331128********1243"
    status, answer = police.post(f"/api/v1/cases/{county.newborn}/items/GA-0101/result", {"outcome": "approved"})
    assert status == 200, answer


def test_the_id_number_is_revealed_by_post_only_and_within_the_scope(county):
    path = f"/api/v1/cases/{county.newborn}/id-number"
    status, answer, headers = county.api.clerk.call("GET", path)
    assert status == 405 and answer["error"]["code"] == "method_not_allowed"
    assert "POST" in answer["error"]["message"] and "请使用" in answer["error"]["message"]
    assert "POST" in headers["Allow"]
    assert events_of(county.newborn, "view_id") == []  # a GET wrote nothing
    assert county.api.market.post(path)[0] == 404
    for key in ("clerk", "police", "admin"):
        status, answer = getattr(county.api, key).post(path)
        assert status == 200 and answer["id_number"] == MOTHER_ID, key
    assert len(events_of(county.newborn, "view_id")) == 3
    assert county.api.county.post(path)[0] == 403


# ----------------------------------------------------------------------------- the pages, logged in


def page(client, path, status=200):
    answer = client.get(path)
    assert answer.status_code == status, (path, answer.status_code)
    return answer.get_data(as_text=True)


@ON_BOTH  # a hub's department users, on PostgreSQL too
def test_a_department_user_s_pages_show_only_its_cases(county):
    market, police, clerk = county.pages.market, county.pages.police, county.pages.clerk
    for path in ("/cases", "/cases?today=1", "/cases?q=李娜", f"/cases?q={MOTHER_ID}", f"/cases?q={PHONE}",
                 f"/cases?q={county.newborn}", "/cases?status=accepted", "/cases/overdue"):
        assert f'/cases/{county.newborn}"' not in page(market, path), path  # no link to it
        assert "331128********1243" not in page(market, path) and "138****8000" not in page(market, path), path
    assert county.shop in page(market, "/cases") and county.shop in page(market, "/cases?today=1")
    assert county.newborn in page(police, "/cases/overdue") and county.newborn in page(clerk, "/cases/overdue")
    assert county.shop not in page(police, "/cases") and county.shop not in page(police, "/cases?today=1")
    unknown = page(market, f"/cases/{UNKNOWN}", status=404)
    assert unknown_words(UNKNOWN) in unknown
    for path in (f"/cases/{county.newborn}", f"/cases/{county.newborn}/notices/receipt",
                 f"/cases/{county.newborn}/notices/acceptance"):
        shown = page(market, path, status=404)
        assert unknown_words(county.newborn) in shown and "李娜" not in shown, path
        assert shown.replace(county.newborn, UNKNOWN) == unknown, path  # the very same page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page(market, "/cases")).group(1)
    revealed = market.post(f"/cases/{county.newborn}/reveal-id", data={"csrf_token": token})
    assert revealed.status_code == 404 and MOTHER_ID not in revealed.get_data(as_text=True)
    printed = market.post(f"/cases/{county.newborn}/notices/receipt/prints", json={}, headers={"X-CSRFToken": token})
    assert printed.status_code == 404 and printed.get_json()["error"]["message"] == unknown_words(county.newborn)
    assert events_of(county.newborn, "view_id") == [] and events_of(county.newborn, "print") == []
    shown = page(police, f"/cases/{county.newborn}")
    assert "李娜" in shown and MOTHER_ID not in shown and "县公安局" in shown
    assert MOTHER_ID in police.post(f"/cases/{county.newborn}/reveal-id",
                                    data={"csrf_token": token_of(police)}).get_data(as_text=True)
    assert page(police, f"/cases/{county.shop}", status=404).count(unknown_words(county.shop)) >= 1


def token_of(client):
    return re.search(r'name="csrf_token" value="([^"]+)"', page(client, "/cases")).group(1)


# ----------------------------------------------------------------------------- the rule and its queries


def test_the_scope_of_each_role():
    def user(role, department=None):
        return SimpleNamespace(role=role, department=department)

    assert visibility.scope_of(user("clerk")) == visibility.EVERY == visibility.scope_of(user("admin"))
    assert visibility.scope_of("cli") == visibility.EVERY  # the trusted command line
    assert visibility.scope_of(user("department", "县公安局")) == visibility.Scope(department="县公安局")
    assert visibility.scope_of(user("department")).nothing and visibility.scope_of(user("county")).nothing


@ON_BOTH  # a hub's department users, on PostgreSQL too
def test_a_department_s_searches_use_indexes(county):
    police = SimpleNamespace(role="department", department="县公安局")
    with db.connection_context():
        for q, index in (("", "case_item_department_case_id"), (MOTHER_ID, "case_record_id_number"),
                         (PHONE, "case_record_phone"), (county.newborn, "case_record_case_no")):
            for status in (None, "accepted") if q == "" else (None,):  # a status narrows nothing else
                sql, params = lists.search_query(q, status, actor=police).limit(21).sql()
                plan = query_plan(sql, params)
                assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), plan
                assert index in plan and "case_item_department_case_id" in plan, plan


# ----------------------------------------------------------------------------- in a real browser


def test_the_case_page_as_a_department_user_in_chromium(county, browser_page):
    page_ = browser_page
    browser_login(page_, county.base, "gaj")
    page_.goto(county.base + f"/cases?q={PHONE}")
    assert page_.locator(f"text={county.newborn}").count() >= 1
    page_.goto(county.base + f"/cases/{county.newborn}")
    page_.wait_for_load_state("networkidle")
    page_.screenshot(path="/tmp/visibility-department-case.png")
    text = page_.inner_text("body")
    assert "李娜" in text and "县公安局" in text and MOTHER_ID not in text
    response = page_.goto(county.base + f"/cases/{county.shop}")
    assert response.status == 404 and unknown_words(county.shop) in page_.inner_text("body")
    page_.goto(county.base + "/cases?q=安澜赵记")
    assert county.shop not in page_.inner_text("body")
