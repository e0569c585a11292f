"""Search as a clerk searches (issue 9 item 15), through the real waitress server and a real SQLite file.

Any part of two characters or more of the applicant's (a person's or a
company's) or the agent's name, the agent's phone, the last digits of the
case number — besides the searches of before. The part-of-a-name search
reads a bounded number of index entries however common its characters, and
cases registered before the migration are found after it.
"""
import urllib.parse
import urllib.request
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from county_app import accounts, migrations, settings
from county_app.bootstrap import initialise
from county_app.db import database_path, db
from county_app.intake import cases, lists, namesearch
from county_app.intake.records import Case

from test_cases_api import Api
from test_cases_domain import CENTRE, FATHER_ID, MOTHER_ID, PHONE, newborn
from test_material_conditions_api import RETIREE, RETIREMENT, RETIREMENT_FORM
from test_migrations import ALL_MODELS, schema

from conftest import ON_BOTH, browser_login
from plans import query_plan

NOODLES = {"kind": "company", "name": "安澜县老赵面馆有限公司", "credit_code": "91350100M000100Y43",
           "legal_representative": "赵强", "phone": "13700137000", "address": "安澜县城关镇人民路 12 号"}
DAUGHTER_PHONE = "13612345678"
DAUGHTER = {"name": "王小红", "id_number": MOTHER_ID, "phone": DAUGHTER_PHONE, "relation": "女儿（持书面委托）"}


@pytest.fixture
def clerk(live_server, make_user):
    make_user("li", "clerk")
    make_user("gaj", "department", department="县公安局")
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        yield Api(live_server, accounts.issue_token("li", actor="test").token)


def register(clerk, **request):
    status, case = clerk.post("/api/v1/cases", request)
    assert status == 201, case
    return case["case_no"]


def found(clerk, q, **params):
    query = urllib.parse.urlencode({"q": q, **params})
    status, answer = clerk.get(f"/api/v1/cases?{query}")
    assert status == 200, answer
    return answer


def numbers_found(clerk, q, **params):
    return [row["case_no"] for row in found(clerk, q, **params)["items"]]


@ON_BOTH  # a hub on PostgreSQL answers the same searches
def test_a_clerk_finds_a_case_by_any_part_of_a_name_the_agent_s_phone_and_the_last_digits(clerk):
    retiree = register(clerk, bundle="YJS-TX", answers=RETIREMENT, matters=["RS-0201"], applicant=RETIREE,
                       agent=DAUGHTER, form=RETIREMENT_FORM)
    baby = register(clerk, **newborn())
    # the retiree's daughter comes back alone: her phone, her given name, part of her father's name
    assert numbers_found(clerk, DAUGHTER_PHONE) == [retiree]
    assert numbers_found(clerk, "136 1234 5678") == [retiree]
    assert numbers_found(clerk, "小红") == [retiree]
    assert numbers_found(clerk, "建国") == [retiree]
    assert numbers_found(clerk, "王建国") == [retiree]
    assert numbers_found(clerk, "王") == [retiree]  # one character: a name's first, as before
    assert numbers_found(clerk, "李") == [baby] and numbers_found(clerk, "^李") == [baby]
    # the last digits of the case number (four or more), and the number or its start as before
    assert numbers_found(clerk, baby[-4:]) == [baby]
    assert numbers_found(clerk, baby[-9:]) == [baby]
    assert numbers_found(clerk, baby) == [baby] and numbers_found(clerk, baby[:14]) == [baby, retiree]
    assert numbers_found(clerk, retiree[-5:]) == [retiree]
    # the searches of before still work
    assert numbers_found(clerk, PHONE) == [baby]
    assert numbers_found(clerk, MOTHER_ID) == [baby]
    assert numbers_found(clerk, "李娜") == [baby]
    assert numbers_found(clerk, "娜") == []  # a single character is a name's start, not any part
    assert numbers_found(clerk, "赵钱") == []
    # a status narrows, a department user sees only its cases
    assert numbers_found(clerk, "建国", status="registered") == [retiree]
    assert numbers_found(clerk, "建国", status="accepted") == []
    with db.connection_context():
        police = SimpleNamespace(role="department", department="县公安局")
        assert cases.find_cases("李娜", actor=police)["items"][0]["case_no"] == baby
        assert cases.find_cases("建国", actor=police)["items"] == []
        assert cases.find_cases(DAUGHTER_PHONE, actor=police)["items"] == []


@ON_BOTH  # a hub on PostgreSQL answers the same searches
def test_a_company_is_found_by_any_part_of_its_name(clerk):
    noodles = register(clerk, bundle="YJS-KBCY", answers={"Q1": "新办企业", "Q2": "是", "Q3": "否", "Q4": "否"},
                       applicant={**NOODLES, "phone": "13900139000"},
                       form={"QYMC": NOODLES["name"], "ZTLX": "有限责任公司", "FDDBR": "赵强", "JBRXM": "赵强",
                             "QYZS": "安澜县城关镇人民路 20 号", "ZCZB": 10, "JYFW": "餐饮服务", "JYCSMJ": 120,
                             "ZTYT": "餐饮服务经营者", "JYXM": ["热食类食品制售"], "SPAQGLY": "赵强",
                             "ZPCC": "4×1", "ZPCZ": "亚克力"})
    for q in ("老赵", "面馆", "老赵面馆", "赵面", "县老赵", "有限公司", " 面 馆 ", "安澜县老赵面馆有限公司"):
        assert numbers_found(clerk, q) == [noodles], q
    page = urllib.request.Request(clerk.base + "/cases?" + urllib.parse.urlencode({"q": "老赵"}),
                                  headers={"Authorization": f"Bearer {clerk.token}"})
    with urllib.request.urlopen(page, timeout=20) as response:
        html = response.read().decode()
    assert noodles in html and "“老赵”的查询结果" in html and "过于常见" not in html
    answer = found(clerk, "面馆")
    assert answer["limited"] is False and answer["items"][0]["applicant_name"] == NOODLES["name"]
    assert answer["items"][0]["credit_code"] == NOODLES["credit_code"]  # shown as before: a company's code is public


# ----------------------------------------------------------------------------- every part of a stored name


NAMES = st.text(alphabet=st.sampled_from("赵钱孙李周吴郑王老面馆有限公司aBc１２·"), min_size=2, max_size=12)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(applicant=NAMES, agent=NAMES)
def test_every_part_of_two_characters_or_more_of_a_stored_name_finds_the_case(window_db, applicant, agent):
    with db.atomic():
        case = cases.register_case(**newborn(applicant={**newborn()["applicant"], "name": applicant},
                                             agent={"name": agent, "id_number": FATHER_ID, "relation": "亲属"}), actor="li")
    for name in (case.applicant_name, agent.strip()):
        first = namesearch.search_key(name)[:1]
        assert case.case_no in [row["case_no"] for row in cases.find_cases(first, per_page=100, actor="test")["items"]]
        for start in range(len(name)):
            for end in range(start + 2, len(name) + 1):
                part = name[start:end]
                if len(namesearch.search_key(part)) < 2:
                    continue
                answer = cases.find_cases(part, per_page=100, actor="test")
                assert case.case_no in [row["case_no"] for row in answer["items"]], part


@pytest.fixture
def window_db(seeded_app):
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        yield


# ----------------------------------------------------------------------------- bounded work


@ON_BOTH  # a hub on PostgreSQL answers the same searches
def test_two_common_characters_read_a_bounded_number_of_index_entries(window_db, monkeypatch):
    monkeypatch.setattr(namesearch, "SCAN_LIMIT", 30)
    monkeypatch.setattr(namesearch, "_WALKS", [namesearch._walk_query(n) for n in range(namesearch.CHECKED_GRAMS)])

    def add(name):
        with db.atomic():
            return cases.register_case(**newborn(applicant={**newborn()["applicant"], "name": name}), actor="li")

    oldest = add("公司安澜")  # 公司安澜 itself: found only within the window
    for n in range(40):
        add(f"安澜有限公司{n}")  # 安澜, 公司 and 有限 common
        add(f"公司安{n}")  # 司安 common
    decoy = add("安澜公司安")  # every bigram of 公司安澜, but not the text
    read = []  # cases read: their names checked, or a page of them fetched
    names, rows = namesearch._names, namesearch._cases
    monkeypatch.setattr(namesearch, "_names", lambda ids, extra: read.append(len(ids)) or names(ids, extra))
    monkeypatch.setattr(namesearch, "_cases", lambda ids: read.append(len(ids)) or rows(ids))

    first = cases.find_cases("有限", actor="test")
    assert len(first["items"]) == 20 and first["has_more"] and not first["limited"]
    assert sum(read) == 21  # a page and one more, not every case holding 有限
    last = cases.find_cases("有限", page=2, actor="test")
    assert last["limited"] and not last["has_more"] and len(last["items"]) == 10  # 30 read, 20 on page 1
    read.clear()
    beyond = cases.find_cases("公司安澜", actor="test")
    assert beyond["items"] == [] and beyond["limited"] and sum(read) == 1  # the decoy read and refused
    counted = []
    count = namesearch._count
    monkeypatch.setattr(namesearch, "_count", lambda gram, limit: counted.append(gram) or count(gram, limit))
    pasted = "安澜县老赵面馆有限公司第一分店厨房用品批发部" * 9  # 198 characters
    assert cases.find_cases(pasted, actor="test")["items"] == []
    assert len(set(counted)) <= namesearch.COUNTED_GRAMS and len(counted) <= 2 * namesearch.COUNTED_GRAMS + 1
    read.clear()
    first = cases.find_cases("安", status="accepted", actor="test")  # 安 starts 41 names, none accepted
    assert first["items"] == [] and first["limited"] and sum(read) <= 30
    monkeypatch.setattr(namesearch, "SCAN_LIMIT", 2000)
    monkeypatch.setattr(namesearch, "_WALKS", [namesearch._walk_query(n) for n in range(namesearch.CHECKED_GRAMS)])
    whole = cases.find_cases("公司安澜", actor="test")
    assert [row["case_no"] for row in whole["items"]] == [oldest.case_no] and not whole["limited"]
    assert decoy.case_no in [row["case_no"] for row in cases.find_cases("澜公司", actor="test")["items"]]
    assert len(cases.find_cases("公司", per_page=100, actor="test")["items"]) == 82  # the API's largest page


@ON_BOTH  # a hub on PostgreSQL answers the same searches
def test_the_searches_use_indexes(window_db):
    walk_sql, params = namesearch._walk(2)._build("有限", "公司", "限公", 21).sql()
    plan = query_plan(walk_sql, params, ordered=True)
    assert "SCAN" not in plan and "case_record" not in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan  # walked down the key in order, stopping at the limit
    for q, index in (("13612345678", "case_record_agent_phone"), ("00017", "case_record_case_no_reversed")):
        sql, params = lists.search_query(q).limit(21).sql()
        plan = query_plan(sql, params)
        assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), plan
        assert index in plan, plan


# ----------------------------------------------------------------------------- cases from before the migration


def test_cases_registered_before_0011_are_found_after_it(data_dir, seeded_app):
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
            old = [cases.register_case(**newborn(), actor="li"),
                   cases.register_case(bundle="YJS-TX", answers=RETIREMENT, matters=["RS-0201"],
                                       applicant=RETIREE, agent=DAUGHTER, form=RETIREMENT_FORM, actor="li")]
        # back to the schema of 0010, with the cases in it
        for statement in ('DROP TABLE "case_name_gram"', 'DROP INDEX "case_record_agent_phone"',
                          'DROP INDEX "case_record_case_no_reversed"',
                          'ALTER TABLE "case_record" DROP COLUMN "agent_phone"',
                          'ALTER TABLE "case_record" DROP COLUMN "case_no_reversed"',
                          'CREATE INDEX "case_record_applicant_name" ON "case_record" ("applicant_name")',
                          'DELETE FROM "schema_migration" WHERE "name" = \'0011_case_search\''):
            db.execute_sql(statement)
    report = initialise(data_dir)
    assert report.applied == ["0011_case_search"]
    fresh = data_dir / "fresh"
    fresh.mkdir()
    from county_app.db import bind
    bind(fresh)
    with db.connection_context():
        db.create_tables(ALL_MODELS)
    expected = schema(database_path(fresh))
    bind(data_dir)
    migrated = schema(database_path(data_dir))
    migrated.pop("schema_migration"), expected.pop("schema_migration")
    assert migrated == expected
    baby, retiree = (case.case_no for case in old)
    with db.connection_context():
        def numbers(q):
            return [row["case_no"] for row in cases.find_cases(q, actor="test")["items"]]

        assert numbers("小红") == [retiree] and numbers(DAUGHTER_PHONE) == [retiree] and numbers("建国") == [retiree]
        assert numbers(baby[-6:]) == [baby] and numbers("李娜") == [baby] and numbers(PHONE) == [baby]
        assert Case.get(Case.case_no == retiree).agent_phone == DAUGHTER_PHONE


@ON_BOTH  # a hub on PostgreSQL answers the same searches
def test_the_page_says_when_the_characters_were_too_common(clerk, monkeypatch):
    monkeypatch.setattr(namesearch, "SCAN_LIMIT", 3)
    monkeypatch.setattr(namesearch, "_WALKS", [namesearch._walk_query(n) for n in range(namesearch.CHECKED_GRAMS)])
    for n in range(5):
        register(clerk, **newborn(applicant={**newborn()["applicant"], "name": f"李娜{n}"}))

    def page(q):
        request = urllib.request.Request(clerk.base + "/cases?" + urllib.parse.urlencode({"q": q}),
                                         headers={"Authorization": f"Bearer {clerk.token}"})
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.read().decode()

    assert "“李娜”过于常见，只在含这些字的最近 3 件办件中查找" in page("李娜")  # found 3 of 5
    assert found(clerk, "李娜")["limited"] and len(found(clerk, "李娜")["items"]) == 3
    assert "过于常见" not in page("李娜4") and numbers_found(clerk, "娜4")


def test_a_search_result_flags_a_due_date_only_when_its_year_was_unpublished(clerk, unpublished_from_2027):
    """The list showed 调休安排未公布 on every due date: the result rows did not read the case's flag."""
    from datetime import date

    from county_app.intake import materials, workflow
    from test_cases_domain import supply_all_but_marriage_certificate

    plain, late = register(clerk, **newborn()), register(clerk, **newborn())
    li = accounts.get_user("li")
    for case_no, today in ((plain, date(2026, 11, 2)), (late, date(2026, 12, 28))):
        supply_all_but_marriage_certificate(case_no, li)
        materials.log_material(case_no, "JHZ", "original_verified", actor=li)
        workflow.accept_case(case_no, actor=li, today=today)
    flags = {row["case_no"]: row["calendar_complete"] for row in found(clerk, PHONE)["items"]}
    assert flags == {plain: True, late: False}


def test_the_hint_and_the_focus_agree_on_the_results_in_chromium(live_server, make_user, browser_page):
    """One hit: the focus is on its link and Enter opens it; Tab or ↓ from the box reaches the first result."""
    from county_app.models import User

    make_user("li", "clerk")
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        case = cases.register_case(**newborn(), actor=User.get(User.username == "li"))
    page = browser_page
    browser_login(page, live_server, "li")

    def focused():
        return page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")

    page.goto(live_server + "/cases?q=" + PHONE)
    page.wait_for_function("document.activeElement && document.activeElement.tagName === 'A'")
    hint = page.locator("form.search .hint").inner_text()
    assert "Enter" in hint and "打开办件" in hint and "在查询框按" in hint
    assert focused() == case.case_no
    page.screenshot(path="/tmp/case-search-one-hit.png")
    page.keyboard.press("/")
    assert focused() == "search-q"
    page.keyboard.press("Tab")  # the box holds what was searched: Tab reaches the result
    assert focused() == case.case_no
    page.keyboard.press("/")
    page.keyboard.press("ArrowDown")
    assert focused() == case.case_no
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/cases/{case.case_no}")
    # Text typed but not yet searched: ↓ searches it first, and its first result is current.
    page.goto(live_server + "/cases")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'search-q'")
    page.keyboard.type("李娜")
    page.keyboard.press("ArrowDown")
    page.wait_for_url("**/cases?q=*")
    page.wait_for_load_state("networkidle")
    assert focused() == case.case_no
