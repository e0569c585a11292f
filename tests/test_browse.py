"""Browsing the catalogue in force: the read-side queries, the clerk pages and the JSON API.

The data is a real workbook (tests/workbooks.py, a few rows added) imported by
the real importer; the pages are fetched through the test client after logging in.
"""
from contextlib import contextmanager

import pytest

from county_app.catalogue import query, store
from county_app.db import db

from conftest import login
from workbooks import Book


@contextmanager
def database():
    with db.connection_context():
        yield


def build_book():
    """The minimal workbook plus a third matter, a disabled matter and a disabled company bundle."""
    book = Book()
    book.append("事项", ["M003", "城乡居民医保参保登记", "公共服务", "县医疗保障局", "承诺件", 15, 10, 1,
                       "不收费", "参保凭证", "父母一方已参保", "《社会保险法》", "启用"])
    book.append("事项", ["M004", "餐饮服务食品经营许可", "行政许可", "县市场监督管理局", "承诺件", 20, 8, 2,
                       "", "食品经营许可证", "", "", "停用"])
    book.append("材料", ["M003", "C01", "父母身份证", "复印件", 3, "纸质", "政府部门核发", "必要", None, None])
    book.append("材料", ["M003", "C03", "新生儿照片", "原件", 1, "电子", "申请人自备", "容缺", None, "白底"])
    book.append("材料", ["M004", "C09", "营业执照", "复印件", 1, "纸质", "政府部门核发", "必要", "数据共享", None])
    book.append("表单", ["M003", "F01", "母亲姓名", "文本", "否", None, "申请人.姓名"])
    book.append("表单", ["M003", "F03", "联系电话", "手机号", "是", None, "申请人.手机号"])
    book.append("一件事", ["B02", "开办餐饮店一件事", "县市场监督管理局", "企业", "", "停用"])
    book.append("一件事事项", ["B01", "M003", "可选", "Q1=是", 3])
    book.append("一件事事项", ["B02", "M004", "必选", None, 1])
    return book


def import_book(book, folder):
    with database():
        outcome = store.import_workbook(book.save(folder / "catalogue.xlsx"), actor="test")
    assert not outcome.errors, outcome.errors
    return outcome


@pytest.fixture
def catalogued(app, tmp_path):
    import_book(build_book(), tmp_path)
    return app


@pytest.fixture
def clerk(catalogued, make_user):
    make_user("li", "clerk")
    client = catalogued.test_client()
    assert login(client, "li").status_code == 302
    return client


# ----------------------------------------------------------------------------- queries


def test_bundles_enabled_first_with_member_counts(catalogued):
    with database():
        bundles = query.list_bundles()
    assert [(b.code, b.enabled, b.member_count, b.audience) for b in bundles] == [
        ("B01", True, 3, "person"), ("B02", False, 1, "company")]


def test_bundle_members_questions_and_readable_conditions(catalogued):
    with database():
        bundle = query.get_bundle("B01")
    assert [(m.code, m.required) for m in bundle.members] == [("M001", True), ("M002", False), ("M003", False)]
    assert bundle.members[0].condition_text == ""
    assert bundle.members[1].condition == "Q1=是;Q2!=否"
    assert bundle.members[1].condition_text == "Q1「是否在本县落户？」答“是”，且 Q2「父母是否已婚？」答的不是“否”"
    assert [(q.code, q.options, q.condition_text) for q in bundle.questions] == [
        ("Q1", ["是", "否"], ""), ("Q2", ["是", "否", "不确定"], "Q1「是否在本县落户？」答“是”")]


def test_bundle_materials_merged_one_per_code(catalogued):
    with database():
        bundle = query.get_bundle("B01")
    materials = {m.code: m for m in bundle.materials}
    assert list(materials) == ["C01", "C02", "C03"]
    ids = materials["C01"]
    assert ids.copies == 3  # the most any member asks for
    assert ids.form == "original_and_copy"  # M001 wants the original, M002 and M003 copies
    assert ids.waiver is None  # only M001 accepts the electronic licence
    assert ids.matters == ["M001", "M002", "M003"]
    assert materials["C02"].necessity == "deferrable" and materials["C02"].waiver == "data_sharing"
    totals = bundle.totals
    # One count with the 改革成效 report (savings.py): C02 is fetched by 数据共享, so 2 are still handed in.
    assert (totals.materials_before, totals.materials_merged, totals.materials_fetched) == (5, 3, 1)
    assert totals.materials_after == 2


def test_disabled_members_ask_for_nothing(catalogued):
    with database():
        bundle = query.get_bundle("B02")
    assert [(m.code, m.enabled) for m in bundle.members] == [("M004", False)]
    assert bundle.materials == [] and bundle.fields == []
    # The totals count every member, 停用 ones too, as the 改革成效 report does (one rule, savings.py).
    assert (bundle.totals.materials_before, bundle.totals.materials_after, bundle.totals.materials_fetched) == (1, 0, 1)


def test_bundle_fields_merged_one_per_code(catalogued):
    with database():
        bundle = query.get_bundle("B01")
    fields = {f.code: f for f in bundle.fields}
    assert list(fields) == ["F01", "F02", "F03"]
    assert fields["F01"].required is True and fields["F01"].prefill == "name"
    assert fields["F01"].matters == ["M001", "M002", "M003"]
    assert fields["F02"].options == ["男", "女"]
    totals = bundle.totals
    assert (totals.fields_before, totals.fields_merged, totals.fields_prefilled) == (5, 3, 2)
    assert totals.fields_after == 1


def test_matters_filtered(catalogued):
    with database():
        assert query.list_matters().total == 4
        assert [m.code for m in query.list_matters(department="县公安局").items] == ["M002"]
        assert [m.code for m in query.list_matters(bundle="B01").items] == ["M001", "M002", "M003"]
        assert [m.code for m in query.list_matters(status="disabled").items] == ["M004"]
        assert [m.code for m in query.list_matters(q="ylcb").items] == []
        assert [m.code for m in query.list_matters(q="cxjm").items] == ["M003"]
        page = query.list_matters(limit=2, offset=2)
        assert page.total == 4 and [m.code for m in page.items] == ["M003", "M004"]
        assert query.departments() == sorted(["县卫生健康局", "县公安局", "县医疗保障局", "县市场监督管理局"])


def test_matter_detail(catalogued):
    with database():
        matter = query.get_matter("M002")
        assert query.get_matter("NOPE") is None and query.get_bundle("NOPE") is None
    assert (matter.name, matter.handling, matter.statutory_days) == ("出生登记", "instant", 10)
    assert [m.code for m in matter.materials] == ["C01", "C02"] and matter.materials[0].copies == 2
    assert [f.code for f in matter.fields] == ["F01", "F02"]
    assert matter.bundles == [{"code": "B01", "name": "新生儿出生一件事"}]


@pytest.mark.parametrize("q", ["xse", "XSE", "xsecs", "xsecsyjs", "sec", "新生儿", "生儿出", "B0", "b01"])
def test_search_finds_the_newborn_bundle(catalogued, q):
    with database():
        hits = query.search(q)
    assert ("bundle", "B01") in [(h.kind, h.code) for h in hits]
    assert hits[0].code == "B01"


def test_search_ranks_and_covers_matters(catalogued):
    with database():
        assert [(h.kind, h.code) for h in query.search("M00")] == [
            ("matter", "M001"), ("matter", "M002"), ("matter", "M003"), ("matter", "M004")]
        assert [h.code for h in query.search("M004")] == ["M004"]
        assert [h.code for h in query.search("csdj")] == ["M002"]  # 出生登记
        # 餐饮服务… (a prefix of its initials) before 开办餐饮店 (inside them); both disabled
        assert [(h.code, h.enabled) for h in query.search("cy")] == [("M004", False), ("B02", False)]
        # names that start with the text before names that only contain it
        assert [h.code for h in query.search("出生")] == ["M001", "M002", "B01"]


@pytest.mark.parametrize("q", ["", "   ", None, "%", "_", "zzz"])
def test_search_finds_nothing_for_empty_or_unmatched(catalogued, q):
    with database():
        assert query.search(q) == []


def test_no_catalogue_means_empty_answers(app):
    with database():
        assert query.current_version() is None
        assert query.list_bundles() == [] and query.search("xse") == []
        assert query.list_matters().total == 0 and query.get_bundle("B01") is None


def test_only_the_version_in_force_is_browsed(catalogued, tmp_path):
    book = build_book()
    book.set("目录信息", 2, "内容", "2026.12-01")
    book.set("一件事", 2, "一件事名称", "新生儿出生“一件事”（新版）")
    (tmp_path / "v2").mkdir()
    import_book(book, tmp_path / "v2")
    with database():
        assert query.current_version().version == "2026.12-01"
        assert [b.name for b in query.list_bundles()][0] == "新生儿出生“一件事”（新版）"
        assert len(query.search("xse")) == 1


# ----------------------------------------------------------------------------- pages


def test_pages_need_login(catalogued):
    response = catalogued.test_client().get("/bundles/B01")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_home_lists_bundles_with_search_box(clerk):
    page = clerk.get("/").get_data(as_text=True)
    assert 'id="search-q"' in page and "autofocus" in page and 'action="/search"' in page
    assert "新生儿出生一件事" in page and "县卫生健康局" in page and "个人" in page
    assert "<strong>3</strong> 个事项" in page
    assert page.index("新生儿出生一件事") < page.index("开办餐饮店一件事")  # enabled first
    assert "停用" in page and "browse.js" in page


def test_bundle_page(clerk):
    page = clerk.get("/bundles/B01").get_data(as_text=True)
    for text in ("县公安局", "必选", "可选", "即办", "法定 20 个工作日 / 承诺 5 个工作日",
                 "法定 15 个工作日 / 承诺 10 个工作日", "Q1「是否在本县落户？」答“是”", "始终适用",
                 "父母是否已婚？", "是 / 否 / 不确定", "合并后的申请材料（3 项，合并前 5 项）",
                 "合并后的申请表字段（3 项，合并前 5 项）", "原件和复印件", "容缺", "免提交·数据共享",
                 "申请人姓名", "申请人手机号", "5 → 2 项", "合并为 3 项，其中 1 项通过电子证照或数据共享免提交",
                 "5 → 1 项", "合并为 3 项，其中 2 项自动预填"):
        assert text in page, text
    assert "即办（法定 10 个工作日）" in page  # M002 is 即办件 with a statutory limit
    assert "停用的事项也计入上面的合并效果" not in page
    assert "停用的事项也计入上面的合并效果" in clerk.get("/bundles/B02").get_data(as_text=True)


def test_matter_page(clerk):
    page = clerk.get("/matters/M001").get_data(as_text=True)
    for text in ("出生医学证明签发", "行政确认", "县卫生健康局", "法定 20 个工作日 / 承诺 5 个工作日",
                 "2 次", "不收费", "新生儿在本县出生", "《母婴保健法》", "免提交·电子证照", "核验后退还",
                 "新生儿出生一件事", "母亲姓名"):
        assert text in page, text
    disabled = clerk.get("/matters/M004").get_data(as_text=True)
    assert "此事项已停用" in disabled


def test_matter_list_filters(clerk):
    page = clerk.get("/matters").get_data(as_text=True)
    assert "共 4 项" in page and "出生登记" in page
    page = clerk.get("/matters", query_string={"department": "县公安局"}).get_data(as_text=True)
    assert "共 1 项" in page and "出生登记" in page and "出生医学证明签发" not in page
    page = clerk.get("/matters", query_string={"status": "disabled"}).get_data(as_text=True)
    assert "共 1 项" in page and "餐饮服务食品经营许可" in page
    page = clerk.get("/matters", query_string={"q": "nothing-like-this"}).get_data(as_text=True)
    assert "没有符合条件的事项" in page


def test_search_page(clerk):
    page = clerk.get("/search", query_string={"q": "xse"}).get_data(as_text=True)
    assert 'href="/bundles/B01"' in page and "data-keynav" in page and "autofocus" in page
    assert "没有找到" in clerk.get("/search?q=qqqq").get_data(as_text=True)
    assert "请输入" in clerk.get("/search?q=").get_data(as_text=True)


def test_unknown_codes_are_404(clerk):
    assert clerk.get("/bundles/NOPE").status_code == 404
    assert clerk.get("/matters/NOPE").status_code == 404


def test_pages_without_catalogue_say_what_to_do(app, make_user):
    make_user("li", "clerk")
    client = app.test_client()
    login(client, "li")
    for path in ("/", "/matters", "/search?q=xse"):
        page = client.get(path).get_data(as_text=True)
        assert "还没有导入事项目录" in page and "catalogue import" in page, path
    make_user("county", "county")
    client = app.test_client()
    login(client, "county")
    assert 'href="/catalogue/"' in client.get("/").get_data(as_text=True)


# ----------------------------------------------------------------------------- API


def test_api_bundles(clerk):
    answer = clerk.get("/api/v1/bundles").get_json()
    assert [{k: b[k] for k in ("code", "name", "lead_department", "audience")} for b in answer] == [
        {"code": "B01", "name": "新生儿出生一件事", "lead_department": "县卫生健康局", "audience": "person"},
        {"code": "B02", "name": "开办餐饮店一件事", "lead_department": "县市场监督管理局", "audience": "company"}]


def test_api_bundle_detail(clerk):
    answer = clerk.get("/api/v1/bundles/B01").get_json()
    assert answer["code"] == "B01" and answer["audience"] == "person"
    assert answer["members"][1] == {
        "code": "M002", "name": "出生登记", "department": "县公安局", "required": False,
        "condition": "Q1=是;Q2!=否", "handling": "instant", "statutory_days": 10, "promised_days": 0,
        "visits": 1, "enabled": True}
    assert answer["questions"][1] == {"code": "Q2", "text": "父母是否已婚？", "options": ["是", "否", "不确定"],
                                      "condition": "Q1=是"}
    assert [m["code"] for m in answer["materials"]] == ["C01", "C02", "C03"]
    assert answer["materials"][0]["copies"] == 3 and answer["materials"][0]["required"] is True
    assert answer["totals"]["materials_before"] == 5


def test_api_unknown_bundle_is_404_json(clerk):
    response = clerk.get("/api/v1/bundles/NOPE")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_api_needs_authentication(catalogued):
    response = catalogued.test_client().get("/api/v1/bundles")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_api_matters(clerk):
    answer = clerk.get("/api/v1/matters", query_string={"q": "xs"}).get_json()
    assert answer["total"] == 0
    answer = clerk.get("/api/v1/matters", query_string={"department": "县公安局"}).get_json()
    assert [m["code"] for m in answer["items"]] == ["M002"] and answer["total"] == 1
    assert clerk.get("/api/v1/matters?status=maybe").status_code == 400
    matter = clerk.get("/api/v1/matters/M001").get_json()
    assert matter["materials"][0]["waiver"] == "e_licence" and matter["bundles"][0]["code"] == "B01"
    assert clerk.get("/api/v1/matters/NOPE").get_json()["error"]["code"] == "not_found"


# ----------------------------------------------------------------------------- the seed catalogue


def test_seed_catalogue_browses(seeded_app, make_user):
    make_user("li", "clerk")
    client = seeded_app.test_client()
    login(client, "li")
    bundles = client.get("/api/v1/bundles").get_json()
    assert len(bundles) >= 13
    for bundle in bundles:
        assert client.get(f"/bundles/{bundle['code']}").status_code == 200, bundle["code"]
    page = client.get("/search", query_string={"q": "xse"}).get_data(as_text=True)
    assert "新生儿出生" in page


def test_matter_list_pages(app, make_user, tmp_path):
    book = build_book()
    for number in range(130):
        book.append("事项", [f"X{number:03d}", f"测试事项{number}", "公共服务", "县公安局", "即办件", 0, 0, 1,
                           None, None, None, None, None])
    import_book(book, tmp_path)
    make_user("li", "clerk")
    client = app.test_client()
    login(client, "li")
    first = client.get("/matters", query_string={"department": "县公安局"}).get_data(as_text=True)
    assert "共 131 项" in first and "第 1 / 2 页" in first
    assert 'href="/matters?page=2&amp;department=' in first
    second = client.get("/matters", query_string={"department": "县公安局", "page": 2}).get_data(as_text=True)
    assert "测试事项129" in second and "测试事项0<" not in second and "上一页" in second
    answer = client.get("/api/v1/matters", query_string={"page": 2}).get_json()
    assert answer["total"] == 134 and len(answer["items"]) == 34


def test_a_material_asked_under_a_condition_says_when(clerk):
    bundle = clerk.get("/bundles/B01").get_data(as_text=True)
    assert "结婚证 <strong class=\"small\">（Q2「父母是否已婚？」答“是”时提交）</strong>" in bundle
    matter = clerk.get("/matters/M002").get_data(as_text=True)
    assert "结婚证 <strong class=\"small\">（Q2答“是”时提交）</strong>" in matter
    detail = clerk.get("/api/v1/bundles/B01").get_json()
    assert next(m for m in detail["materials"] if m["code"] == "C02")["conditions"] == ["Q2=是"]


def test_a_shared_matters_page_in_each_bundle_lists_only_that_bundles_papers(seeded_app, make_user):
    """不动产登记资料查询 belongs to 教育入学 and 企业破产信息核查: the court's papers show in the latter only."""
    make_user("li", "clerk")
    client = seeded_app.test_client()
    login(client, "li")
    school = client.get("/bundles/YJS-JYRX").get_data(as_text=True)
    bankruptcy = client.get("/bundles/YJS-PCHC").get_data(as_text=True)
    assert "人民法院受理破产申请裁定书" not in school and "人民法院受理破产申请裁定书" in bankruptcy
    # (其他查询事项 ask for them outright, so the bundle lists them without a condition.)
    assert "人民法院受理破产申请裁定书 <strong class=\"small\">（PC1答“不清楚”或“是”时提交）</strong>" in \
        client.get("/matters/ZR-0101").get_data(as_text=True)
    assert "（由他人代办时提交）" in client.get("/bundles/YJS-TX").get_data(as_text=True)
