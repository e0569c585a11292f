"""Material 适用条件 applied, through the real waitress server and the seed catalogue.

The one-time notice before the applicant and agent are known lists a paper that hinges on them with
its condition in words; the guide with them, and registration, ask exactly what the case needs: the
agent's papers only with an agent, the business licence only of a company, the marriage certificate
only of married parents, and a matter shared by two bundles only the papers of the bundle applied for.
"""
import urllib.parse
import urllib.request

import pytest

from county_app import accounts, settings
from county_app.db import db

from test_cases_api import Api
from test_cases_domain import CENTRE, MOTHER_ID, PHONE, newborn

RETIREMENT = {"Q1": "企业职工基本养老保险", "Q2": "否", "Q3": "否"}
RETIREE = {"kind": "person", "name": "王建国", "id_number": "11010519491231002X", "phone": "13900139000",
           "address": "安澜县城关镇幸福路 8 号"}
RETIREMENT_FORM = {"GZDW": "安澜县农机厂", "CJGZRQ": "1968-03-01", "TXLX": "正常退休", "TXRQ": "2026-12-01"}
DAUGHTER = {"name": "王小红", "id_number": MOTHER_ID, "phone": PHONE, "relation": "女儿（持书面委托）"}
COMPANY = {"kind": "company", "name": "安澜县味道面馆有限公司", "credit_code": "91350100M000100Y43",
           "legal_representative": "赵强", "phone": "13700137000", "address": "安澜县城关镇人民路 12 号"}
POWER_FORM = {"BZDZ": "安澜县城关镇人民路 12 号", "YDRL": "30", "YDLB": "一般工商业用电"}


@pytest.fixture
def clerk(live_server, make_user):
    make_user("li", "clerk")
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        yield Api(live_server, accounts.issue_token("li", actor="test").token)


def materials(answer):
    """{code: material} of a guide's or a case's answer."""
    return {m["code"]: m for m in answer["materials"]}


def guide(clerk, **body):
    status, answer = clerk.post("/api/v1/guide", body)
    assert status == 200, answer
    return answer


def test_before_the_agent_is_known_the_notice_lists_the_authorisation_with_its_condition(clerk):
    unknown = materials(guide(clerk, bundle="YJS-TX", answers=RETIREMENT))
    assert unknown["WTS"]["conditions"] == ["代办=是"] and unknown["WTS"]["condition_text"] == "由他人代办时提交"
    assert unknown["DLRSFZJ"]["condition_text"] == "由他人代办时提交"
    assert unknown["JMSFZ"]["conditions"] == [] and unknown["JMSFZ"]["condition_text"] == ""

    with_agent = guide(clerk, bundle="YJS-TX", answers=RETIREMENT, agent=True, applicant={"kind": "person"})
    assert with_agent["facts"] == {"代办": "是", "申请人类型": "个人"}
    assert materials(with_agent)["WTS"]["conditions"] == [] and materials(with_agent)["WTS"]["required"]
    assert "WTS" in materials(guide(clerk, bundle="YJS-TX", answers=RETIREMENT, agent=DAUGHTER))
    for alone in (False, {}, {"name": " "}):
        assert "WTS" not in materials(guide(clerk, bundle="YJS-TX", answers=RETIREMENT, agent=alone))

    base = clerk.base + "/guide/print?bundle=YJS-TX&" + "&".join(f"{k}={v}" for k, v in RETIREMENT.items())
    request = urllib.request.Request(urllib.parse.quote(base, safe=":/?&="), headers={
        "Authorization": f"Bearer {clerk.token}"})
    with urllib.request.urlopen(request, timeout=20) as response:
        printed = response.read().decode()
    assert "授权委托书<br><strong>（由他人代办时提交）</strong>" in printed


def test_the_guide_checks_the_applicant_and_agent_it_is_given(clerk):
    status, answer = clerk.post("/api/v1/guide", {"bundle": "YJS-TX", "answers": RETIREMENT,
                                                  "applicant": {"kind": "alien"}})
    assert status == 422 and answer["error"]["details"][0]["field"] == "applicant.kind"
    status, answer = clerk.post("/api/v1/guide", {"bundle": "YJS-TX", "applicant": "person", "agent": "yes"})
    assert status == 400 and {d["field"] for d in answer["error"]["details"]} == {"applicant", "agent"}


def test_registration_asks_the_agent_papers_only_when_an_agent_applies(clerk):
    request = dict(bundle="YJS-TX", answers=RETIREMENT, matters=["RS-0201"], applicant=RETIREE, form=RETIREMENT_FORM)
    status, alone = clerk.post("/api/v1/cases", request)
    assert status == 201, alone
    assert not {"WTS", "DLRSFZJ"} & set(materials(alone))
    status, helped = clerk.post("/api/v1/cases", {**request, "agent": DAUGHTER})
    assert status == 201, helped
    assert {"WTS", "DLRSFZJ"} <= set(materials(helped)) and materials(helped)["WTS"]["required"]
    # a blank agent section is no agent, for registration as for the guide (it was a 422 here, 否 there)
    blank = {"name": "", "id_number": " ", "phone": ""}
    assert guide(clerk, bundle="YJS-TX", answers=RETIREMENT, agent=blank)["facts"]["代办"] == "否"
    status, unhelped = clerk.post("/api/v1/cases", {**request, "agent": blank})
    assert status == 201, unhelped
    assert not {"WTS", "DLRSFZJ"} & set(materials(unhelped))


def test_the_business_licence_is_asked_of_a_company_only(clerk):
    answers = {"Q1": "否", "Q2": "否"}
    unknown = materials(guide(clerk, bundle="YJS-SDQW", answers=answers, matters=["GD-0101"]))
    assert unknown["YYZZ"]["condition_text"] == "申请人为企业时提交"
    company = materials(guide(clerk, bundle="YJS-SDQW", answers=answers, matters=["GD-0101"],
                              applicant={"kind": "company"}))
    assert company["YYZZ"]["conditions"] == [] and company["YYZZ"]["waiver"] == "e_licence"
    assert "YYZZ" not in materials(guide(clerk, bundle="YJS-SDQW", answers=answers, matters=["GD-0101"],
                                         applicant={"kind": "person"}))

    request = dict(bundle="YJS-SDQW", answers=answers, matters=["GD-0101"], form=POWER_FORM)
    status, case = clerk.post("/api/v1/cases", {**request, "applicant": COMPANY})
    assert status == 201, case
    assert "YYZZ" in materials(case)
    status, case = clerk.post("/api/v1/cases", {**request, "applicant": RETIREE})
    assert status == 201, case
    assert "YYZZ" not in materials(case)


def test_married_parents_bring_the_marriage_certificate_unmarried_ones_the_statement(clerk):
    married = materials(guide(clerk, bundle="YJS-XSECS", answers={"Q1": "是", "Q2": "是", "Q3": "是", "Q4": "已婚"}))
    assert "JHZ" in married and "FHSYSM" not in married and "QZJDZM" not in married
    unmarried = materials(guide(clerk, bundle="YJS-XSECS", answers={"Q1": "是", "Q2": "是", "Q3": "是", "Q4": "未婚"}))
    assert "JHZ" not in unmarried and unmarried["FHSYSM"]["required"] and not unmarried["QZJDZM"]["required"]

    status, case = clerk.post("/api/v1/cases", newborn(answers={"Q1": "是", "Q2": "是", "Q3": "是", "Q4": "未婚",
                                                                "Q5": "母亲"}))
    assert status == 201, case
    assert "FHSYSM" in materials(case) and "JHZ" not in materials(case)
    status, case = clerk.post("/api/v1/cases", newborn())
    assert status == 201, case
    assert "JHZ" in materials(case) and "FHSYSM" not in materials(case)
    status, answer = clerk.post("/api/v1/cases", newborn(answers={"Q1": "是", "Q2": "是", "Q3": "是", "Q5": "母亲"}))
    assert status == 422 and answer["error"]["details"][0]["field"] == "answers.Q4"


def test_a_matter_shared_by_two_bundles_asks_in_each_only_that_bundles_papers(clerk):
    """不动产登记资料查询: a parent enrolling a child is not shown a bankruptcy administrator's papers."""
    court = {"PCCDS", "GLRJDS", "GLRZJ"}
    school = guide(clerk, bundle="YJS-JYRX", answers={"Q1": "小学一年级", "Q2": "是", "Q4": "是", "Q5": "否"})
    assert "ZR-0101" in [m["code"] for m in school["matters"]]
    assert not court & set(materials(school))
    bankruptcy = guide(clerk, bundle="YJS-PCHC", answers={"PC1": "是", "PC2": "否"})
    assert "ZR-0101" in [m["code"] for m in bankruptcy["matters"]]
    assert all(materials(bankruptcy)[code]["required"] and "ZR-0101" in materials(bankruptcy)[code]["matters"]
               for code in court)
    # The bundle's own page and its API show the same list, conditions or not.
    status, page = clerk.get("/api/v1/bundles/YJS-JYRX")
    assert status == 200 and not court & set(materials(page))
    status, page = clerk.get("/api/v1/bundles/YJS-PCHC")
    assert status == 200 and court <= set(materials(page))


def test_a_single_matter_lists_its_situation_papers_with_their_situation_and_does_not_require_them(clerk):
    """出生登记 alone: no questionnaire asks whether the parents are married, yet the law asks 结婚证 of
    married parents and the 非婚生育说明 of unmarried ones (国办发〔2015〕96号). It used to ask neither;
    now both are listed with their situation in words, and at registration kept on the checklist,
    marked so, not required (the clerk asks; acceptance does not wait for a paper that may not apply)."""
    alone = materials(guide(clerk, matters=["GA-0101"], applicant={"kind": "person"}, agent=False))
    assert {"CSYXZM", "JMSFZ", "JHZ", "FHSYSM", "QZJDZM"} <= set(alone)
    assert alone["JHZ"]["condition_text"] == "「新生儿父母的婚姻状况」答“已婚”时提交"
    assert alone["FHSYSM"]["condition_text"] == "「新生儿父母的婚姻状况」答“未婚”时提交"
    assert alone["CSYXZM"]["condition_text"] == "" and alone["CSYXZM"]["conditions"] == []
    # A fact still decides: the agent's papers of a single matter follow 代办 as before.
    assert "WTS" not in alone
    request = newborn(bundle=None, answers=None, matters=["GA-0101"])
    request["form"] = {k: v for k, v in request["form"].items() if k not in ("XSECSDD", "CKRXM", "LKFS")}
    status, case = clerk.post("/api/v1/cases", request)
    assert status == 201, case
    listed = materials(case)
    assert listed["JHZ"]["condition_text"] == "「新生儿父母的婚姻状况」答“已婚”时提交"
    assert not listed["JHZ"]["required"] and listed["JHZ"]["necessity"] == "optional"
    assert not listed["FHSYSM"]["required"] and listed["JMSFZ"]["required"] and listed["JMSFZ"]["condition_text"] == ""
