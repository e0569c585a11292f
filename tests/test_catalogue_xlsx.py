"""The catalogue workbook: reading with every rule of catalogue-xlsx.md, and writing it back."""
import zipfile
from datetime import date

import openpyxl
import pytest

from county_app.catalogue.model import Catalogue, CatalogueInfo, Matter
from county_app.catalogue.xlsx_package import DEFAULT_LIMITS, Limits
from county_app.catalogue.xlsx_read import Problem, read_workbook
from county_app.catalogue.xlsx_write import write_workbook
from workbooks import MINIMAL, Book, messages, rewrite_member, sheet_member


def only_error(result) -> str:
    assert result.catalogue is None
    assert len(result.errors) == 1, messages(result.errors)
    return str(result.errors[0])


# --- a valid workbook ---

def test_minimal_workbook_reads_into_codes_not_words(tmp_path):
    result = Book().read(tmp_path)
    assert result.errors == [] and result.warnings == []
    catalogue = result.catalogue
    assert catalogue.info == CatalogueInfo("2026.11-02", "示例县政务服务管理办公室", date(2026, 11, 2), "330102")
    first, second = catalogue.matters
    assert (first.kind, first.handling, first.statutory_days, first.promised_days, first.visits) == (
        "confirmation", "promised", 20, 5, 2)
    assert second.enabled is True and second.fee == "" and second.handling == "instant"
    assert [(m.matter_code, m.code, m.form, m.copies, m.medium, m.necessity, m.waiver)
            for m in catalogue.materials] == [
        ("M001", "C01", "original", 1, "paper", "required", "e_licence"),
        ("M002", "C01", "copy", 2, "either", "required", None),
        ("M002", "C02", "original_and_copy", 1, "paper", "deferrable", "data_sharing"),
    ]
    assert catalogue.fields[0].prefill == "name" and catalogue.fields[2].options == ("男", "女")
    assert catalogue.bundles[0].audience == "person"
    assert [(m.required, m.condition, m.position) for m in catalogue.members] == [
        (True, "", 1), (False, "Q1=是;Q2!=否", 2)]
    assert catalogue.questions[1].options == ("是", "否", "不确定")
    assert [(d.day, d.kind) for d in catalogue.calendar] == [
        (date(2026, 10, 1), "rest"), (date(2026, 10, 10), "work")]


def test_optional_sheets_may_be_absent(tmp_path):
    book = Book()
    for name in ("表单", "一件事", "一件事事项", "情形问题", "节假日"):
        book.drop_sheet(name)
    book.set("材料", 4, "适用条件", "代办=是")  # without bundles a material's condition names only the facts
    result = book.read(tmp_path)
    assert result.errors == []
    assert result.catalogue.fields == [] and result.catalogue.bundles == []


def test_columns_in_any_order_and_optional_columns_absent(tmp_path):
    book = Book()
    for rows in book.sheets.values():
        for row in rows:
            row.reverse()
    book.drop_column("材料", "填报须知").drop_column("事项", "状态").drop_column("事项", "到现场次数")
    result = book.read(tmp_path)
    assert result.errors == []
    assert result.catalogue.materials[0].instructions == ""
    assert result.catalogue.matters[0].visits == 0 and result.catalogue.matters[0].enabled


def test_blank_rows_skipped_and_white_space_trimmed(tmp_path):
    book = Book()
    book.sheets["材料"].insert(2, [None] * 10)
    book.sheets["材料"].insert(3, ["  ", "\t"] + [None] * 8)
    book.set("材料", 2, "材料名称", "  父母身份证 \n")
    book.set("事项", 2, "事项编码", " M001 ")
    result = book.read(tmp_path)
    assert result.errors == []
    assert len(result.catalogue.materials) == 3
    assert result.catalogue.matters[0].code == "M001"
    assert result.catalogue.materials[0].name == "父母身份证"


def test_integers_as_text_and_dates_as_text_are_accepted(tmp_path):
    book = Book()
    book.set("事项", 2, "法定办结时限", "20").set("事项", 2, "承诺办结时限", " 5 ")
    book.set("材料", 2, "份数", "5")
    book.set("目录信息", 4, "内容", "2026-11-02")
    book.set("节假日", 2, "日期", "2026-10-01")
    result = book.read(tmp_path)
    assert result.errors == []
    assert result.catalogue.matters[0].statutory_days == 20
    assert result.catalogue.materials[0].copies == 5
    assert result.catalogue.info.published_on == date(2026, 11, 2)
    assert result.catalogue.calendar[0].day == date(2026, 10, 1)


def test_numbers_typed_into_text_columns_read_as_text(tmp_path):
    book = Book()
    book.set("事项", 2, "事项编码", 1001)
    book.set("材料", 2, "事项编码", 1001)
    book.set("表单", 2, "事项编码", 1001)
    book.set("一件事事项", 2, "事项编码", 1001)
    book.set("目录信息", 5, "内容", 330102001001)
    result = book.read(tmp_path)
    assert result.errors == []
    assert result.catalogue.matters[0].code == "1001"
    assert result.catalogue.info.region_code == "330102001001"


def test_unknown_sheets_and_columns_are_warnings(tmp_path):
    book = Book()
    book.sheets["备注"] = [["随便写写"]]
    book.sheets["事项"][0].append("备注")
    book.sheets["事项"][1].append("内部使用")
    result = book.read(tmp_path)
    assert result.errors == [] and result.catalogue is not None
    assert messages(result.warnings) == ["事项!N1: 未知的列 “备注”，已忽略", "备注: 未知的工作表，已忽略"]


def test_unknown_catalogue_info_item_is_a_warning(tmp_path):
    book = Book()
    book.append("目录信息", ["联系电话", "0571-1234567"])
    result = book.read(tmp_path)
    assert result.errors == []
    assert messages(result.warnings) == [
        "目录信息!A6: 未知的项目 “联系电话”，已忽略（可用：目录版本、发布单位、发布日期、适用区划）"]


def test_status_blank_means_enabled_and_stopped_is_disabled(tmp_path):
    book = Book()
    book.set("事项", 2, "状态", "停用").set("一件事", 2, "状态", None)
    result = book.read(tmp_path)
    assert result.catalogue.matters[0].enabled is False and result.catalogue.matters[1].enabled is True
    assert result.catalogue.bundles[0].enabled is True


# --- files that are not workbooks, or hostile ones ---

def test_text_file_named_xlsx_is_not_a_workbook(tmp_path):
    path = tmp_path / "catalogue.xlsx"
    path.write_text("事项编码,事项名称\nM001,出生登记\n", encoding="utf-8")
    assert only_error(read_workbook(path)).startswith("文件: 文件不是 Excel 工作簿 (.xlsx)")


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "catalogue.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert only_error(read_workbook(path)) == "文件: 文件不是 Excel 工作簿 (.xlsx)"


def test_zip_with_package_parts_but_no_workbook(tmp_path):
    path = Book().save(tmp_path / "catalogue.xlsx")
    rewrite_member(path, "xl/workbook.xml", lambda data: b"<broken")
    assert only_error(read_workbook(path)).startswith("文件: 文件不是 Excel 工作簿 (.xlsx)")


def test_missing_file_is_an_error_not_an_exception(tmp_path):
    assert only_error(read_workbook(tmp_path / "nothing.xlsx")).startswith("文件: 无法打开文件")


def test_file_name_does_not_matter(tmp_path):
    assert Book().read(tmp_path, name="目录.bin").errors == []


def test_file_over_the_size_cap(tmp_path):
    path = Book().save(tmp_path / "catalogue.xlsx")
    message = only_error(read_workbook(path, limits=Limits(max_file_bytes=1000)))
    assert message.startswith("文件: 文件太大") and "上限为" in message
    assert DEFAULT_LIMITS.max_file_bytes == 20 * 1024 * 1024


def _add_member(path, name, data):
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(name, data)


def test_zip_bomb_member_with_extreme_compression_ratio(tmp_path):
    path = Book().save(tmp_path / "catalogue.xlsx")
    _add_member(path, "xl/media/zeros.bin", bytes(2 * 1024 * 1024))  # ~1000:1, default limits
    message = only_error(read_workbook(path))
    assert "xl/media/zeros.bin" in message and "压缩比" in message and "超过上限 100:1" in message


def test_zip_bomb_total_unpacked_size_with_small_limit(tmp_path):
    path = Book().save(tmp_path / "catalogue.xlsx")
    _add_member(path, "xl/media/zeros.bin", bytes(300_000))
    limits = Limits(max_unpacked_bytes=200_000, ratio_floor_bytes=10**9)
    message = only_error(read_workbook(path, limits=limits))
    assert message.startswith("文件: 解压后的内容共") and "恶意" in message


def test_zip_bomb_total_unpacked_size_with_default_limits(tmp_path):
    path = Book().save(tmp_path / "catalogue.xlsx")
    megabyte = bytes(1024 * 1024)  # members of 1 MB escape the ratio check, so only the total catches them
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for number in range(201):
            archive.writestr(f"xl/media/zeros{number}.bin", megabyte)
    assert "超过上限 200 MB" in only_error(read_workbook(path))


def test_more_rows_than_the_cap(tmp_path):
    book = Book()
    for number in range(3, 8):
        book.copy_row("节假日", 2, 日期=f"2026-10-0{number}")
    message = only_error(book.read(tmp_path, limits=Limits(max_rows=5)))
    assert message == "节假日: 数据超过 5 行的上限，已停止读取"
    assert Book().read(tmp_path, name="b.xlsx", limits=Limits(max_rows=5)).errors == []
    assert DEFAULT_LIMITS.max_rows == 100_000


def test_rows_are_read_even_if_the_stored_dimension_says_otherwise(tmp_path):
    book = Book()
    path = book.save(tmp_path / "catalogue.xlsx")
    rewrite_member(path, sheet_member(book, "材料"),
                   lambda data: data.replace(b'<dimension ref="A1:J4" />', b'<dimension ref="A1" />'))
    assert len(read_workbook(path).catalogue.materials) == 3


# --- formulas ---

def test_formula_without_cached_value_is_an_error_once(tmp_path):
    book = Book().formula("事项", "F2", "=1+1")
    message = only_error(book.read(tmp_path))
    assert message.startswith("事项!F2: 公式没有缓存值")


def test_formula_in_an_ignored_column_is_not_reported(tmp_path):
    book = Book()
    book.sheets["事项"][0].append("备注")
    book.formula("事项", "N2", "=1+1")
    result = book.read(tmp_path)
    assert result.errors == []


def test_formula_alone_on_an_otherwise_blank_row_is_reported(tmp_path):
    book = Book().formula("材料", "B6", "=A1")
    errors = messages(book.read(tmp_path).errors)
    # The row is not blank after all, so its other required cells are missing too.
    assert errors[1].startswith("材料!B6: 公式没有缓存值")
    assert errors[0] == "材料!A6: 事项编码不能为空" and len(errors) == 8


def test_formula_with_cached_value_is_read_by_its_value(tmp_path):
    book = Book().formula("事项", "F2", "=10+10")
    path = book.save(tmp_path / "catalogue.xlsx")
    rewrite_member(path, sheet_member(book, "事项"),
                   lambda data: data.replace(b"<f>10+10</f><v />", b"<f>10+10</f><v>20</v>"))
    result = read_workbook(path)
    assert result.errors == [] and result.catalogue.matters[0].statutory_days == 20


def test_error_value_is_an_error(tmp_path):
    book = Book().formula("事项", "B2", "=VLOOKUP(1,A1:A2,3)")
    path = book.save(tmp_path / "catalogue.xlsx")
    rewrite_member(path, sheet_member(book, "事项"),
                   lambda data: data.replace(b'<c r="B2"><f>VLOOKUP(1,A1:A2,3)</f><v /></c>',
                                             b'<c r="B2" t="e"><f>VLOOKUP(1,A1:A2,3)</f><v>#N/A</v></c>'))
    assert only_error(read_workbook(path)).startswith("事项!B2: 单元格的值是错误值 #N/A")


# --- sheets and columns ---

@pytest.mark.parametrize("sheet", ["目录信息", "事项", "材料"])
def test_missing_required_sheet(tmp_path, sheet):
    result = Book().drop_sheet(sheet).read(tmp_path)
    assert f"文件: 缺少必需的工作表 “{sheet}”" in messages(result.errors)
    assert result.catalogue is None


@pytest.mark.parametrize("sheet, header", [
    ("事项", "事项名称"), ("事项", "承诺办结时限"), ("材料", "份数"), ("表单", "字段类型"),
    ("一件事", "服务对象"), ("一件事事项", "是否必选"), ("情形问题", "选项"), ("节假日", "日期"),
    ("目录信息", "内容"),
])
def test_missing_required_column_is_one_error(tmp_path, sheet, header):
    assert only_error(Book().drop_column(sheet, header).read(tmp_path)) == f"{sheet}: 缺少必需的列 “{header}”"


def test_duplicate_header(tmp_path):
    book = Book().rename_column("材料", "填报须知", "材料名称")
    assert only_error(book.read(tmp_path)) == "材料!J1: 列 “材料名称” 重复（与 C1 相同）"


# --- cell values ---

def test_text_where_a_number_belongs(tmp_path):
    book = Book().set("材料", 2, "份数", "两份")
    assert only_error(book.read(tmp_path)) == '材料!E2: 份数必须是正整数，实际为 "两份"'


@pytest.mark.parametrize("value, shown", [(2.5, "2.5"), (True, "TRUE"), (0, "0"), ("-1", '"-1"')])
def test_other_bad_integers(tmp_path, value, shown):
    book = Book().set("材料", 3, "份数", value)
    assert only_error(book.read(tmp_path)) == f"材料!E3: 份数必须是正整数，实际为 {shown}"


def test_the_cell_is_named_by_its_real_column_position(tmp_path):
    book = Book()
    for row in book.sheets["材料"]:
        row.insert(0, None)
    book.set("材料", 2, "份数", "两份")
    assert only_error(book.read(tmp_path)) == '材料!F2: 份数必须是正整数，实际为 "两份"'


def test_visits_must_be_zero_to_five(tmp_path):
    assert only_error(Book().set("事项", 2, "到现场次数", 6).read(tmp_path)) == (
        "事项!H2: 到现场次数必须是 0 到 5 之间的整数，实际为 6")


def test_promised_days_above_statutory(tmp_path):
    book = Book().set("事项", 2, "承诺办结时限", 30)
    assert only_error(book.read(tmp_path)) == "事项!G2: 承诺办结时限（30）不能超过法定办结时限（20）"


def test_instant_matter_with_days(tmp_path):
    book = Book().set("事项", 3, "承诺办结时限", 3)
    assert only_error(book.read(tmp_path)) == "事项!G3: 即办件的承诺办结时限必须为 0，实际为 3"


def test_promised_matter_without_days(tmp_path):
    book = Book().set("事项", 2, "承诺办结时限", 0)
    assert only_error(book.read(tmp_path)).startswith("事项!G2: 承诺件的承诺办结时限必须大于 0")


@pytest.mark.parametrize("sheet, row, header, value, allowed", [
    ("事项", 2, "事项类型", "许可", "行政许可、行政确认、行政给付"),
    ("事项", 2, "办件类型", "急件", "即办件、承诺件"),
    ("事项", 2, "状态", "暂停", "启用、停用"),
    ("材料", 2, "材料类型", "扫描件", "原件、复印件、原件和复印件"),
    ("材料", 2, "材料形式", "传真", "纸质、电子、纸质或电子"),
    ("材料", 2, "来源渠道", "网上下载", "申请人自备、政府部门核发、其他"),
    ("材料", 2, "必要性", "可选", "必要、非必要、容缺"),
    ("材料", 2, "免提交方式", "免交", "电子证照、数据共享、告知承诺"),
    ("表单", 2, "字段类型", "数字", "文本、整数、金额、日期"),
    ("表单", 2, "是否必填", "必填", "是、否"),
    ("表单", 2, "预填来源", "申请人.邮箱", "申请人.姓名、申请人.证件号码、申请人.统一社会信用代码、申请人.法定代表人、申请人.手机号、申请人.地址、"
     "代办人.姓名、代办人.证件号码、代办人.手机号"),
    ("一件事", 2, "服务对象", "法人", "个人、企业"),
    ("一件事事项", 2, "是否必选", "是", "必选、可选"),
    ("节假日", 2, "类型", "假日", "休息日、工作日"),
])
def test_unknown_vocabulary_word_lists_the_allowed_ones(tmp_path, sheet, row, header, value, allowed):
    book = Book().set(sheet, row, header, value)
    message = only_error(book.read(tmp_path))
    assert message.startswith(f"{sheet}!{book.ref(sheet, row, header)}: {header}必须是 {allowed}")
    hint = "；可在后面加条件，如 申请人.姓名（当 Q5=母亲）" if header == "预填来源" else ""  # our extension
    assert message.endswith(f'之一，实际为 "{value}"{hint}')


@pytest.mark.parametrize("sheet, row, header", [
    ("事项", 2, "事项名称"), ("事项", 2, "实施部门"), ("事项", 2, "法定办结时限"), ("材料", 2, "材料编码"),
    ("表单", 2, "字段名称"), ("一件事", 2, "牵头部门"), ("情形问题", 2, "问题"), ("节假日", 2, "类型"),
])
def test_required_value_blank(tmp_path, sheet, row, header):
    book = Book().set(sheet, row, header, None)
    assert only_error(book.read(tmp_path)) == f"{sheet}!{book.ref(sheet, row, header)}: {header}不能为空"


@pytest.mark.parametrize("code", ["M 01", "M_01", "事项1", "M" * 41])
def test_matter_code_characters_and_length(tmp_path, code):
    book = Book().set("事项", 2, "事项编码", code)
    book.set("材料", 2, "事项编码", code).set("表单", 2, "事项编码", code)
    book.set("一件事事项", 2, "事项编码", code)
    # Only the code itself is wrong: the rows that refer to it find it.
    assert only_error(book.read(tmp_path)).startswith("事项!A2: 事项编码只能由 1–40 个英文字母、数字或 - 组成")


def test_forty_character_matter_code_with_dash_is_fine(tmp_path):
    code = "33-0102-" + "A" * 32
    book = Book().set("事项", 2, "事项编码", code)
    book.set("材料", 2, "事项编码", code).set("表单", 2, "事项编码", code)
    book.set("一件事事项", 2, "事项编码", code)
    assert book.read(tmp_path).errors == []


@pytest.mark.parametrize("value", ["2026/11/02", "2026-02-30", -1, 20261001, "46000", "下周一", True])
def test_bad_dates(tmp_path, value):
    message = only_error(Book().set("节假日", 2, "日期", value).read(tmp_path))
    assert message.startswith("节假日!A2: 日期")


@pytest.mark.parametrize("value", ["33010", "3301020010", "33010a"])
def test_region_code_is_6_or_12_digits(tmp_path, value):
    assert only_error(Book().set("目录信息", 5, "内容", value).read(tmp_path)).startswith(
        "目录信息!B5: 适用区划必须是 6 位县级或 12 位乡镇级区划代码")


def test_catalogue_version_missing_or_blank(tmp_path):
    assert only_error(Book().set("目录信息", 2, "内容", None).read(tmp_path)) == "目录信息!B2: 目录版本不能为空"
    book = Book()
    del book.sheets["目录信息"][1]
    assert only_error(book.read(tmp_path, name="b.xlsx")).startswith("目录信息: 缺少 “目录版本” 一行")


def test_choice_field_needs_options_and_other_fields_warn_about_them(tmp_path):
    book = Book().set("表单", 4, "可选值", None).set("表单", 2, "可选值", "a|b")
    result = book.read(tmp_path)
    assert messages(result.errors) == ["表单!F4: 字段类型为单选时必须填写可选值（多个值用 | 分隔）"]
    assert "表单!F2: 字段类型为文本，可选值不起作用" in messages(result.warnings)


def test_duplicate_option(tmp_path):
    assert only_error(Book().set("情形问题", 2, "选项", "是|否|是").read(tmp_path)) == (
        '情形问题!D2: 选项中的值 “是” 重复，实际为 "是|否|是"')


# --- uniqueness ---

@pytest.mark.parametrize("sheet, row, changes, expected", [
    ("事项", 3, {"事项编码": "M001"}, "事项!A4: 事项编码 “M001” 重复（与 事项!A2 相同）"),
    ("一件事", 2, {}, "一件事!A3: 一件事编码 “B01” 重复（与 一件事!A2 相同）"),
    ("情形问题", 2, {}, "情形问题!B4: 一件事 “B01” 的问题编码 “Q1” 重复（与 情形问题!B2 相同）"),
    ("材料", 2, {"材料名称": "父母身份证"}, "材料!B5: 事项 “M001” 的材料编码 “C01” 重复（与 材料!B2 相同）"),
    ("表单", 2, {}, "表单!B5: 事项 “M001” 的字段编码 “F01” 重复（与 表单!B2 相同）"),
    ("一件事事项", 2, {}, "一件事事项!B4: 一件事 “B01” 的事项 “M001” 重复（与 一件事事项!B2 相同）"),
    ("节假日", 3, {}, "节假日!A4: 日期 2026-10-10 重复（与 节假日!A3 相同）"),
])
def test_duplicates(tmp_path, sheet, row, changes, expected):
    book = Book()
    book.copy_row(sheet, row, **changes)
    assert only_error(book.read(tmp_path)) == expected


def test_same_question_code_in_another_bundle_is_fine(tmp_path):
    book = Book()
    book.copy_row("一件事", 2, 一件事编码="B02")
    book.copy_row("情形问题", 2, 一件事编码="B02")
    assert book.read(tmp_path).errors == []


def test_material_code_with_two_names_names_both_cells(tmp_path):
    book = Book().set("材料", 3, "材料名称", "身份证")
    assert only_error(book.read(tmp_path)) == (
        "材料!C3: 材料编码 “C01” 的材料名称 “身份证” 与 材料!C2 的 “父母身份证” 不一致（同一编码在各事项中必须相同）")


def test_field_code_with_two_types_or_two_names(tmp_path):
    book = Book().set("表单", 3, "字段类型", "整数").set("表单", 3, "字段名称", "母亲名字")
    assert messages(book.read(tmp_path).errors) == [
        "表单!C3: 字段编码 “F01” 的字段名称 “母亲名字” 与 表单!C2 的 “母亲姓名” 不一致（同一编码在各事项中必须相同）",
        "表单!D3: 字段编码 “F01” 的字段类型 “整数” 与 表单!D2 的 “文本” 不一致（同一编码在各事项中必须相同）",
    ]


# --- references ---

@pytest.mark.parametrize("sheet, header, expected", [
    ("材料", "事项编码", "材料!A2: 事项编码 “M999” 在“事项”表中不存在"),
    ("表单", "事项编码", "表单!A2: 事项编码 “M999” 在“事项”表中不存在"),
    ("一件事事项", "事项编码", "一件事事项!B2: 事项编码 “M999” 在“事项”表中不存在"),
])
def test_unknown_matter(tmp_path, sheet, header, expected):
    assert only_error(Book().set(sheet, 2, header, "M999").read(tmp_path)) == expected


def test_unknown_bundle(tmp_path):
    book = Book().set("一件事事项", 2, "一件事编码", "B99")
    book.copy_row("情形问题", 3, 一件事编码="B99")
    assert messages(book.read(tmp_path).errors) == [
        "一件事事项!A2: 一件事编码 “B99” 在“一件事”表中不存在",
        "情形问题!A4: 一件事编码 “B99” 在“一件事”表中不存在",
    ]


def test_members_without_the_bundle_sheet_refer_to_unknown_bundles(tmp_path):
    book = Book().drop_sheet("一件事")
    assert len(book.read(tmp_path).errors) == 4  # 2 members + 2 questions


# --- conditions ---

def test_condition_syntax_error(tmp_path):
    message = only_error(Book().set("一件事事项", 3, "适用条件", "Q1 是").read(tmp_path))
    assert message.startswith("一件事事项!D3: 适用条件格式错误：第 1 个子句")


def test_condition_over_unknown_question(tmp_path):
    book = Book().set("一件事事项", 3, "适用条件", "Q9=是")
    assert only_error(book.read(tmp_path)) == "一件事事项!D3: 适用条件引用了一件事 “B01” 中不存在的问题 “Q9”"


def test_condition_over_unknown_answer(tmp_path):
    book = Book().set("一件事事项", 3, "适用条件", "Q1=是|可能")
    assert only_error(book.read(tmp_path)) == "一件事事项!D3: 适用条件中问题 “Q1” 没有选项 “可能”（可选：是|否）"


def test_condition_over_a_question_of_another_bundle(tmp_path):
    book = Book()
    book.copy_row("一件事", 2, 一件事编码="B02")
    book.copy_row("情形问题", 2, 一件事编码="B02", 问题编码="Q7")
    book.set("一件事事项", 3, "适用条件", "Q7=是")
    assert only_error(book.read(tmp_path)) == "一件事事项!D3: 适用条件引用了一件事 “B01” 中不存在的问题 “Q7”"


def test_display_condition_over_unknown_question_and_answer(tmp_path):
    book = Book().set("情形问题", 3, "显示条件", "Q5=是;Q1!=也许")
    assert messages(book.read(tmp_path).errors) == [
        "情形问题!E3: 显示条件引用了一件事 “B01” 中不存在的问题 “Q5”",
        "情形问题!E3: 显示条件中问题 “Q1” 没有选项 “也许”（可选：是|否）",
    ]


def test_display_condition_cycle_is_a_warning(tmp_path):
    result = Book().set("情形问题", 2, "显示条件", "Q2=是").read(tmp_path)
    assert result.errors == []
    assert [p.place for p in result.warnings] == ["情形问题!E2", "情形问题!E3"]


def test_question_code_cannot_contain_condition_symbols(tmp_path):
    book = Book().set("情形问题", 2, "问题编码", "Q=1")
    book.set("一件事事项", 3, "适用条件", None).set("情形问题", 3, "显示条件", None)
    assert only_error(book.read(tmp_path)).startswith("情形问题!B2: 问题编码不能包含")


# --- all at once ---

def test_all_errors_are_reported_at_once_in_file_order(tmp_path):
    book = Book()
    book.set("材料", 3, "份数", "两份")
    book.set("事项", 2, "事项类型", "许可")
    book.set("一件事事项", 3, "适用条件", "Q9=是")
    result = book.read(tmp_path)
    assert result.catalogue is None
    assert messages(result.errors) == [
        '事项!C2: 事项类型必须是 行政许可、行政确认、行政给付、行政裁决、行政奖励、行政备案、其他行政权力、公共服务 之一，实际为 "许可"',
        '材料!E3: 份数必须是正整数，实际为 "两份"',
        "一件事事项!D3: 适用条件引用了一件事 “B01” 中不存在的问题 “Q9”",
    ]


def test_problem_shape():
    problem = Problem("材料!F12", '份数必须是正整数，实际为 "两份"')
    assert str(problem) == '材料!F12: 份数必须是正整数，实际为 "两份"'
    assert problem == Problem("材料!F12", '份数必须是正整数，实际为 "两份"', (9,))


# --- writing ---

def test_write_then_read_is_the_same_catalogue(tmp_path):
    original = Book().read(tmp_path).catalogue
    write_workbook(original, tmp_path / "export.xlsx")
    again = read_workbook(tmp_path / "export.xlsx")
    assert again.errors == [] and again.warnings == []
    assert again.catalogue == original


def test_write_then_read_an_almost_empty_catalogue(tmp_path):
    catalogue = Catalogue(CatalogueInfo("1"), matters=[Matter("M", "事项", "other_power", "县局", "instant", 0, 0)])
    write_workbook(catalogue, tmp_path / "export.xlsx")
    assert read_workbook(tmp_path / "export.xlsx").catalogue == catalogue


@pytest.mark.parametrize("text", ["=SUM(A1)", "+86 138", "-1", "@cmd", "=1+1"])
def test_exported_text_never_becomes_a_formula(tmp_path, text):
    original = Book().read(tmp_path).catalogue
    original.matters[0].name = text
    original.materials[0].instructions = text
    path = tmp_path / "export.xlsx"
    write_workbook(original, path)
    assert read_workbook(path).catalogue == original
    workbook = openpyxl.load_workbook(path)  # not data_only: a formula would show as one
    try:
        cell = workbook["事项"]["B2"]
        assert (cell.value, cell.data_type) == (text, "s")
    finally:
        workbook.close()
    with zipfile.ZipFile(path) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet2.xml")


def test_exported_workbook_follows_the_contract_layout(tmp_path):
    path = tmp_path / "export.xlsx"
    write_workbook(Book().read(tmp_path).catalogue, path)
    workbook = openpyxl.load_workbook(path)
    try:
        assert workbook.sheetnames == list(MINIMAL)
        for name, rows in MINIMAL.items():
            sheet = workbook[name]
            assert [cell.value for cell in sheet[1]] == rows[0]
            assert all(cell.font.b for cell in sheet[1])
            assert sheet.freeze_panes == "A2"
            assert sheet.column_dimensions["A"].width >= 8
        matters = workbook["事项"]
        assert [cell.value for cell in matters[2]][:8] == [
            "M001", "出生医学证明签发", "行政确认", "县卫生健康局", "承诺件", 20, 5, 2]
        assert workbook["情形问题"]["D3"].value == "是|否|不确定"
        assert workbook["节假日"]["A2"].is_date
        assert workbook["目录信息"]["B4"].is_date
    finally:
        workbook.close()


def test_openpyxl_warnings_become_problems_not_python_warnings(tmp_path):
    book = Book()
    path = book.save(tmp_path / "catalogue.xlsx")
    rewrite_member(path, sheet_member(book, "节假日"),
                   lambda data: data.replace(b"<v>46296</v>", b"<v>99999999</v>"))
    result = read_workbook(path)  # pytest turns any escaping warning into a failure
    assert messages(result.errors) == ['节假日!A2: 日期必须是日期（Excel 日期或 YYYY-MM-DD 格式的文字），实际为 "#VALUE!"']
    assert [p.place for p in result.warnings] == ["文件"]
    assert "serial value 99999999" in result.warnings[0].message


def test_rule_over_a_missing_optional_column_names_the_row(tmp_path):
    book = Book().drop_column("表单", "可选值")
    assert only_error(book.read(tmp_path)) == "表单!第 4 行: 字段类型为单选时必须填写可选值（多个值用 | 分隔）"


def test_two_sheets_that_differ_only_by_spaces(tmp_path):
    book = Book()
    book.sheets["节假日 "] = book.sheets["节假日"]
    result = book.read(tmp_path)
    assert messages(result.errors) == ["节假日 : 与工作表 “节假日” 重名（只差空格）"]
