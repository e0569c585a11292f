"""Identity numbers as people type them, through the real server (waitress, a real SQLite file).

A Chinese input method in full-width mode gives ``１３８００１３８０００``; people
group digits with spaces, dashes and the ideographic space. Registering such a
case (API and intake page) stores the canonical ASCII form, a search typed
the same way finds it, the intake page's instant check answers with the ASCII
form, and an address code outside the provinces is a 422 that names it.
"""
import json
from urllib.parse import quote

import pytest

from county_app.db import db
from county_app.identity import id_check_char
from county_app.intake.records import Case

from test_cases_api import apis  # noqa: F401  (fixture)
from test_cases_domain import CENTRE, FATHER_ID, MOTHER_ID, PHONE, XSECS_FORM, newborn
from web_client import WebClient

FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
AGENT_ID = "331128199207150023"


def full_width(text):
    return text.translate(FULL_WIDTH)


def stored(case_no):
    with db.connection_context():
        return Case.get(Case.case_no == case_no)


def test_a_case_registered_in_full_width_is_stored_in_ascii_and_found_as_typed(apis):
    clerk = apis["clerk"]
    body = newborn(applicant={"kind": "person", "name": "李娜", "id_number": full_width(MOTHER_ID),
                              "phone": "１３８　００１３　８０００", "address": "安澜县城关镇幸福路 1 号"},
                   agent={"name": "王芳", "id_number": "３３１１２８－１９９２０７１５－００２３", "phone": "１３９ ００１３ ９０００",
                          "relation": "女儿"},
                   form={**XSECS_FORM, "FQSFZH": full_width(FATHER_ID), "MQSFZH": f"\u3000{full_width(MOTHER_ID)} "})
    status, case = clerk.post("/api/v1/cases", body)
    assert status == 201, case
    row = stored(case["case_no"])
    assert (row.id_number, row.phone) == (MOTHER_ID, PHONE)
    assert json.loads(row.agent)["id_number"] == AGENT_ID and json.loads(row.agent)["phone"] == "13900139000"
    form = json.loads(row.form)
    assert form["FQSFZH"] == FATHER_ID and form["MQSFZH"] == MOTHER_ID
    assert not any("\uff10" <= ch <= "\uff5a" for ch in row.form + row.agent)  # nothing full-width is kept

    for q in ("１３８００１３８０００", "１３８ ００１３ ８０００", "１３８－００１３－８０００", "＋８６　１３８００１３８０００",
              full_width(MOTHER_ID), f"{full_width(MOTHER_ID[:6])}\u3000{full_width(MOTHER_ID[6:14])} {MOTHER_ID[14:]}"):
        status, found = clerk.get(f"/api/v1/cases?q={quote(q)}")
        assert status == 200 and [item["case_no"] for item in found["items"]] == [case["case_no"]], q
    status, found = clerk.get(f"/api/v1/cases?q={quote(full_width(FATHER_ID))}")
    assert status == 200 and found["items"] == []  # a number is looked for exactly, as ever


@pytest.mark.parametrize("region", ["990426", "000000"])
def test_a_region_code_outside_the_provinces_is_422_naming_it(apis, region):
    clerk = apis["clerk"]
    number = f"{region}19900307124"
    number += id_check_char(number)
    status, answer = clerk.post("/api/v1/cases", newborn(applicant={
        "kind": "person", "name": "李娜", "id_number": number, "phone": PHONE}))
    assert status == 422 and answer["error"]["code"] == "invalid"
    (detail,) = [d for d in answer["error"]["details"] if d["field"] == "applicant.id_number"]
    assert f"地址码 {region}" in detail["message"] and f"前两位 {region[:2]}" in detail["message"]
    assert clerk.get("/api/v1/cases")[1]["items"] == []  # nothing written


@pytest.fixture
def window(live_server, make_user):
    from county_app import settings

    make_user("li", "clerk")
    with db.connection_context(), db.atomic():
        settings.put("centre.code", CENTRE)
    client = WebClient(live_server)
    assert client.login("li")[0] == 302
    return client


def test_the_intake_page_checks_registers_and_finds_full_width_numbers(window):
    page = "/intake/new?bundle=YJS-XSECS"

    def instant_check(kind, value):
        status, _headers, text = window.post("/intake/check", {"kind": kind, "value": value}, token_from=page)
        assert status == 200
        return json.loads(text)

    assert instant_check("id_number", full_width(MOTHER_ID)) == {
        "ok": True, "value": MOTHER_ID, "sex": "女", "birth_date": "1990-03-07"}
    assert instant_check("phone", "１３８－００１３－８０００") == {"ok": True, "value": PHONE}
    refused = instant_check("id_number", full_width("99042619900307124" + id_check_char("99042619900307124")))
    assert refused["ok"] is False and "地址码 990426" in refused["message"]

    form = {"bundle": "YJS-XSECS", "q.Q1": "是", "q.Q2": "是", "q.Q3": "是", "q.Q4": "已婚", "q.Q5": "母亲", "kind": "person",
            "p.name": "李娜",
            "p.id_number": "３３１１２８　１９９００３０７　１２４３", "p.phone": "１３８　００１３　８０００", "p.address": "幸福路 1 号",
            "g.name": "", "f.CBRXM": "张小宝",
            "action": "register", **{f"f.{code}": value for code, value in XSECS_FORM.items()},
            "f.FQSFZH": full_width(FATHER_ID)}
    status, headers, text = window.post("/intake/new", form, token_from=page)
    assert status == 302, text
    case_no = headers["Location"].rsplit("/", 1)[1]
    row = stored(case_no)
    assert (row.id_number, row.phone, json.loads(row.form)["FQSFZH"]) == (MOTHER_ID, PHONE, FATHER_ID)

    status, _headers, text = window.get("/cases?q=" + quote("１３８ ００１３ ８０００"))
    assert status == 200 and case_no in text
