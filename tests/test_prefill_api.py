"""Never type a thing twice: registration through the real waitress server fills the fields whose
预填来源 names the applicant (a company too), the agent or another field, on the seed catalogue.

Story 1: the baby's name is typed once, the social-security card holder's name follows it; the
parent who applies (Q5) fills their own fields, the mother's or the father's, never the other's
(a conditional 预填来源, our extension of the format). Story 2: the noodle shop's name, credit code, legal
representative and address, given as the applicant, fill the form; the employee at the window,
recorded as agent, is its 经办人.
"""
import json
import re

import pytest

from county_app import accounts, settings
from county_app.db import db
from county_app.intake.records import Case

from test_cases_api import Api
from test_cases_domain import CENTRE, FATHER_ID, MOTHER_ID, XSECS_FORM, newborn
from test_material_conditions_api import COMPANY
from web_client import WebClient

RESTAURANT = dict(bundle="YJS-KBCY", answers={"Q1": "已取得营业执照", "Q2": "是", "Q3": "否", "Q4": "否"},
                  applicant=COMPANY)
SHOP_FORM = {"JYCSMJ": "120", "ZTYT": "餐饮服务经营者", "JYXM": ["热食类食品制售"], "SPAQGLY": "赵强",
             "ZPCC": "6×1.2", "ZPCZ": "亚克力"}
CLERK = {"name": "钱小二", "id_number": "11010519491231002X", "phone": "13600136000", "relation": "店员（持委托书）"}
FILLED_ELSEWHERE = ("CKRXM",)


@pytest.fixture
def clerk(live_server, make_user):
    make_user("li", "clerk")
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        yield Api(live_server, accounts.issue_token("li", actor="test").token)


def test_the_babys_name_is_typed_once_and_the_parent_who_applies_fills_their_own_fields(clerk):
    """Q5 says who applies: the mother's name and ID number fill 母亲姓名/母亲身份证号, a father's fill the
    father's fields and never the mother's (申请人.姓名（当 Q5=母亲）), another guardian's fill neither."""
    parents = ("FQXM", "FQSFZH", "MQXM", "MQSFZH")
    request = newborn()
    request["form"] = {code: value for code, value in XSECS_FORM.items()
                       if code not in (*FILLED_ELSEWHERE, "MQXM", "MQSFZH")}
    status, case = clerk.post("/api/v1/cases", request)
    assert status == 201, case
    form = case["form"]
    assert form["CKRXM"] == form["XSEXM"] == "张小宝"
    stored = json.loads(Case.get(Case.case_no == case["case_no"]).form)
    assert (stored["MQXM"], stored["MQSFZH"]) == ("李娜", MOTHER_ID)  # hers, filled in
    assert (stored["FQXM"], stored["FQSFZH"]) == ("张伟", FATHER_ID)  # his, as typed
    # the father applies: his fields fill from him; the mother's, left blank, are asked, never filled with his name
    father = newborn(answers={**newborn()["answers"], "Q5": "父亲"})
    father["applicant"] = dict(father["applicant"], name="张伟", id_number=FATHER_ID)
    father["form"] = {code: value for code, value in XSECS_FORM.items() if code not in parents}
    status, answer = clerk.post("/api/v1/cases", father)
    assert status == 422, answer
    assert {d["field"] for d in answer["error"]["details"]} == {"form.MQXM", "form.MQSFZH"}, answer
    father["form"].update(MQXM="李娜", MQSFZH=MOTHER_ID)
    status, case = clerk.post("/api/v1/cases", father)
    assert status == 201, case
    stored = json.loads(Case.get(Case.case_no == case["case_no"]).form)
    assert [stored[code] for code in parents] == ["张伟", FATHER_ID, "李娜", MOTHER_ID]
    # a grandmother who is the baby's guardian: nobody's fields are taken from her
    guardian = newborn(answers={**newborn()["answers"], "Q5": "其他监护人"})
    guardian["form"] = {code: value for code, value in XSECS_FORM.items() if code not in parents}
    status, answer = clerk.post("/api/v1/cases", guardian)
    assert status == 422 and {d["field"] for d in answer["error"]["details"]} == {f"form.{c}" for c in parents}


def test_the_guide_says_which_parents_fields_fill_from_the_applicant(clerk):
    """POST /api/v1/guide settles the condition by the answers: the fields fill outright or not at all."""
    def sources(relation):
        status, guide = clerk.post("/api/v1/guide", {"bundle": "YJS-XSECS",
                                                     "answers": {**newborn()["answers"], "Q5": relation}})
        assert status == 200, guide
        return {f["code"]: (f["prefill"], f["prefill_condition"]) for f in guide["fields"]
                if f["code"] in ("FQXM", "FQSFZH", "MQXM", "MQSFZH")}

    assert sources("母亲") == {"FQXM": (None, ""), "FQSFZH": (None, ""),
                               "MQXM": ("name", ""), "MQSFZH": ("id_number", "")}
    assert sources("父亲") == {"FQXM": ("name", ""), "FQSFZH": ("id_number", ""),
                               "MQXM": (None, ""), "MQSFZH": (None, "")}
    assert set(sources("其他监护人").values()) == {(None, "")}


def test_what_the_clerk_typed_wins_over_the_source(clerk):
    request = newborn()
    request["form"] = dict(XSECS_FORM, CKRXM="张宝宝")  # a nickname on the card
    status, case = clerk.post("/api/v1/cases", request)
    assert status == 201, case
    assert case["form"]["CKRXM"] == "张宝宝" and case["form"]["XSEXM"] == "张小宝"


def test_a_company_applicant_and_its_agent_fill_the_company_fields(clerk):
    status, case = clerk.post("/api/v1/cases", {**RESTAURANT, "agent": CLERK, "form": SHOP_FORM})
    assert status == 201, case
    form = case["form"]
    assert {code: form[code] for code in ("QYMC", "TYSHXYDM", "FDDBR", "QYZS", "SJH", "JBRXM")} == {
        "QYMC": "安澜县味道面馆有限公司", "TYSHXYDM": "91350100M000100Y43", "FDDBR": "赵强",
        "QYZS": "安澜县城关镇人民路 12 号", "SJH": "13700137000", "JBRXM": "钱小二"}


def test_without_an_agent_the_agents_field_is_asked_and_nothing_is_written(clerk):
    status, answer = clerk.post("/api/v1/cases", {**RESTAURANT, "form": SHOP_FORM})
    assert status == 422, answer
    details = answer["error"]["details"]
    assert details == [{"field": "form.JBRXM", "message": "经办人姓名：此项必填"}]
    assert Case.select().count() == 0
    status, case = clerk.post("/api/v1/cases", {**RESTAURANT, "form": dict(SHOP_FORM, JBRXM="赵强")})
    assert status == 201 and case["form"]["JBRXM"] == "赵强"


@pytest.fixture
def web(clerk, live_server):
    client = WebClient(live_server)
    assert client.login("li")[0] == 302
    return client


def test_the_page_without_javascript_fills_in_what_it_can_and_registers_it(web):
    """The page posts back to itself (更新清单): the form comes back filled in, each value escaped in its
    attributes, then 登记 stores it; the name holds characters that HTML gives a meaning to."""
    page = "/intake/new?bundle=YJS-KBCY"
    name = '安澜县"味道"<面馆>有限公司'
    form = {"bundle": "YJS-KBCY", **{f"q.{q}": a for q, a in RESTAURANT["answers"].items()}, "kind": "company",
            "c.name": name, "c.credit_code": COMPANY["credit_code"], "c.legal_representative": "赵强",
            "c.phone": COMPANY["phone"], "c.address": COMPANY["address"], "g.name": "钱小二",
            "g.id_number": CLERK["id_number"], "action": "refresh",
            **{f"f.{code}": value for code, value in SHOP_FORM.items() if code != "JYXM"}, "f.JYXM": "热食类食品制售"}
    status, _headers, text = web.post("/intake/new", form, token_from=page)
    assert status == 200, text
    escaped = "安澜县&#34;味道&#34;&lt;面馆&gt;有限公司"
    assert f'name="f.QYMC" value="{escaped}" autocomplete="off"  data-prefill="name" data-filled="{escaped}"' in text
    assert 'name="f.JBRXM" value="钱小二" autocomplete="off"  data-prefill="agent.name" data-filled="钱小二"' in text
    status, headers, text = web.post("/intake/new", {**form, "action": "register"}, token_from=page)
    assert status == 302, text
    stored = json.loads(Case.get(Case.case_no == headers["Location"].rsplit("/", 1)[1]).form)
    assert stored["QYMC"] == name and stored["JBRXM"] == "钱小二" and stored["FDDBR"] == "赵强"


def test_the_catalogue_pages_name_each_source(web):
    status, _headers, text = web.get("/bundles/YJS-XSECS")
    assert status == 200
    cells = re.findall(r"<td>(持卡人姓名|参保人姓名|母亲姓名)</td>.*?<td class=\"nowrap\">([^<]*)</td>\s*<td class=\"small\">",
                       text, re.S)
    assert dict(cells) == {"母亲姓名": "申请人姓名（当 Q5=母亲）", "持卡人姓名": "新生儿姓名", "参保人姓名": "新生儿姓名"}
    status, _headers, text = web.get("/matters/SJ-0301")
    assert status == 200 and "代办人姓名" in text and "申请人法定代表人" in text
