"""The catalogue workbook's rules, applied to plain rows: every error is collected, none stops the rest.

The reader (xlsx_read) turns each sheet into ``SheetRows`` (xlsx_rows);
``build_catalogue`` parses every cell by its column (xlsx_columns), checks the
rules across rows and sheets, and gives a Catalogue only when no error was found.
"""
from collections.abc import Callable
from dataclasses import dataclass

from . import conditions, vocabulary
from .prefill_sources import check_prefill_sources
from .model import Catalogue, CatalogueInfo
from .xlsx_columns import (
    BUNDLES, CALENDAR, FIELDS, INFO, INFO_ITEMS, MATERIALS, MATTER_CODE, MATTERS, MEMBERS, QUESTIONS,
    SHEETS, CellError, show, text,
)
from .xlsx_rows import FILE, NO_VALUE, Check, Problems, SheetRows, parse_rows

_CHOICE_TYPES = ("single", "multi")


def build_catalogue(sheets: dict[str, SheetRows], problems: Problems) -> Catalogue | None:
    """Check every rule of the workbook contract on ``sheets`` (by sheet name); the Catalogue if no error."""
    for spec in SHEETS:
        sheet = sheets.get(spec.name)
        if sheet is None:
            if spec.required:
                problems.error(FILE, f"缺少必需的工作表 “{spec.name}”")
            continue
        for column in spec.columns:
            if column.required and column.attr not in sheet.positions:
                place, order = sheet.place(None)
                problems.error(place, f"缺少必需的列 “{column.header}”", order)

    info = _info(sheets.get(INFO.name), problems)
    records = {spec.name: parse_rows(sheets[spec.name], problems) if spec.name in sheets else []
               for spec in SHEETS[1:]}

    def checker(spec):
        sheet = sheets.get(spec.name) or SheetRows(spec, {}, [])
        return Check(sheet, problems), records[spec.name]

    def known(spec, attr):
        # None = cannot tell (a required sheet or the column is missing, already reported).
        sheet = sheets.get(spec.name)
        if sheet is None:
            return None if spec.required else set()
        if attr not in sheet.positions:
            return None
        return {record[attr] for _, record in records[spec.name] if record[attr] is not None}

    matters = known(MATTERS, "code")
    bundles = known(BUNDLES, "code")
    _check_matters(*checker(MATTERS))
    _check_materials(*checker(MATERIALS), matters)
    _check_fields(*checker(FIELDS), matters)
    _check_bundles(*checker(BUNDLES))
    questions = _check_questions(*checker(QUESTIONS), bundles)
    _check_members(*checker(MEMBERS), matters, bundles, questions)
    held = _holders(sheets, records, bundles)
    _check_case_conditions(checker(MATERIALS)[0], records[MATERIALS.name], held, questions, _MATERIAL_CONDITIONS)
    _check_case_conditions(checker(FIELDS)[0], records[FIELDS.name], held, questions, _PREFILL_CONDITIONS)
    _check_calendar(*checker(CALENDAR))

    if problems.error_count:
        return None
    # Sheet by sheet, each sheet's records freed as its objects are made: a county catalogue's
    # rows would otherwise be held twice at the peak.
    return Catalogue(
        info=CatalogueInfo(**info),
        **{spec.holds: [spec.model(**record) for _, record in records.pop(spec.name)] for spec in SHEETS[1:]},
    )


def _info(sheet: SheetRows | None, problems: Problems) -> dict | None:
    """目录信息: 项目 | 内容 rows, each 项目 at most once, 目录版本 required."""
    if sheet is None or len(sheet.positions) < 2:
        return None  # the missing sheet or column is already reported
    check = Check(sheet, problems)
    items = {column.header: column for column in INFO_ITEMS}
    info = {column.attr: column.default for column in INFO_ITEMS}
    seen = {}
    for row, (item, content) in sheet.rows:
        if item is None:
            check.warning("item", row, "项目为空，这一行已忽略")
            continue
        if item is NO_VALUE:
            continue
        name = text(item) if not isinstance(item, bool) else show(item)
        column = items.get(name)
        if column is None:
            check.warning("item", row, f"未知的项目 “{name}”，已忽略（可用：{'、'.join(items)}）")
            continue
        if name in seen:
            check.error("item", row, f"项目 “{name}” 重复（与 {check.cell('item', seen[name])} 相同）")
            continue
        seen[name] = row
        if content is NO_VALUE:
            continue
        if content is None:
            if column.required:
                check.error("value", row, f"{name}不能为空")
            continue
        try:
            info[column.attr] = column.read(content, sheet.epoch)
        except CellError as error:
            check.error("value", row, f"{name}{error}，实际为 {show(content)}{error.hint}")
    if "目录版本" not in seen:
        place, order = sheet.place(None)
        problems.error(place, "缺少 “目录版本” 一行（项目列填 目录版本，内容列填版本号）", order)
    return info


def info_place(sheets: dict[str, SheetRows], item: str) -> str:
    """The cell holding the 内容 of the 目录信息 row ``item`` (``目录信息!B2``); the sheet's name if none does."""
    sheet = sheets.get(INFO.name)
    if sheet is not None and len(sheet.positions) == 2:
        for row, (name, _) in sheet.rows:
            if name == item:
                return sheet.place("value", row)[0]
    return INFO.name


def _unique(check, records, attrs, describe):
    """Report every row whose ``attrs`` repeat an earlier row's; ``describe`` words the key."""
    first = {}
    for row, record in records:
        key = tuple(record[attr] for attr in attrs)
        if None in key:
            continue
        if key in first:
            check.error(attrs[-1], row,
                        f"{describe(*key)}重复（与 {check.cell(attrs[-1], first[key])} 相同）")
        else:
            first[key] = row


def _exists(check, records, attr, known, message):
    """Each ``attr`` value must be in ``known`` (skipped when ``known`` is None: cannot tell)."""
    if known is None:
        return
    for row, record in records:
        value = record[attr]
        if value is not None and value not in known:
            check.error(attr, row, message.format(value))


def _agree(check, records, attr, what, word=str, report="error"):
    """Rows that share a code must share ``attr``: a second material name or field type is an error."""
    first = {}
    header = check.sheet.spec.header(attr)
    for row, record in records:
        code, value = record["code"], record[attr]
        if code is None or value is None:
            continue
        if code not in first:
            first[code] = (value, row)
            continue
        earlier, earlier_row = first[code]
        if value != earlier:
            getattr(check, report)(
                attr, row,
                f"{what} “{code}” 的{header} “{word(value)}” 与 {check.cell(attr, earlier_row)} 的 "
                f"“{word(earlier)}” 不一致（同一编码在各事项中必须相同）",
            )


def _check_matters(check, records):
    _unique(check, records, ("code",), lambda code: f"事项编码 “{code}” ")
    for row, matter in records:
        if matter["code"] is not None and not MATTER_CODE.fullmatch(matter["code"]):
            check.error("code", row, f"事项编码只能由 1–40 个英文字母、数字或 - 组成，实际为 {show(matter['code'])}")
        handling, statutory, promised = (matter["handling"], matter["statutory_days"],
                                         matter["promised_days"])
        if promised is None:
            continue
        if statutory is not None and promised > statutory:
            check.error("promised_days", row,
                        f"承诺办结时限（{promised}）不能超过法定办结时限（{statutory}）")
        if handling == "instant" and promised != 0:
            check.error("promised_days", row, f"即办件的承诺办结时限必须为 0，实际为 {promised}")
        elif handling == "promised" and promised == 0:
            check.error("promised_days", row, "承诺件的承诺办结时限必须大于 0，实际为 0（当场办结的请填即办件）")


def _check_materials(check, records, matters):
    _exists(check, records, "matter_code", matters, "事项编码 “{}” 在“事项”表中不存在")
    _unique(check, records, ("matter_code", "code"), lambda m, c: f"事项 “{m}” 的材料编码 “{c}” ")
    _agree(check, records, "name", "材料编码")


def _check_fields(check, records, matters):
    _exists(check, records, "matter_code", matters, "事项编码 “{}” 在“事项”表中不存在")
    _unique(check, records, ("matter_code", "code"), lambda m, c: f"事项 “{m}” 的字段编码 “{c}” ")
    _agree(check, records, "name", "字段编码")
    type_word = lambda code: vocabulary.word_for(vocabulary.FIELD_TYPES, code)  # noqa: E731
    _agree(check, records, "type", "字段编码", word=type_word)
    _agree(check, records, "options", "字段编码", word="|".join, report="warning")
    for row, record in records:
        kind, options = record["type"], record["options"]
        if kind in _CHOICE_TYPES and options == ():
            check.error("options", row, f"字段类型为{type_word(kind)}时必须填写可选值（多个值用 | 分隔）")
        elif kind is not None and kind not in _CHOICE_TYPES and options:
            check.warning("options", row, f"字段类型为{type_word(kind)}，可选值不起作用")
    check_prefill_sources(check, records)


def _check_bundles(check, records):
    _unique(check, records, ("code",), lambda code: f"一件事编码 “{code}” ")


def _check_questions(check, records, bundles):
    """Questions, and the display conditions over them; gives {bundle: {question: options}} (None: cannot tell)."""
    _exists(check, records, "bundle_code", bundles, "一件事编码 “{}” 在“一件事”表中不存在")
    _unique(check, records, ("bundle_code", "code"), lambda b, q: f"一件事 “{b}” 的问题编码 “{q}” ")
    positions = check.sheet.positions
    if records and ("bundle_code" not in positions or "code" not in positions):
        return None
    questions = {}
    for row, record in records:
        if record["code"] in conditions.FACTS:
            check.error("code", row, f"问题编码不能用 “{record['code']}”：它是材料适用条件中的办件事实，请换一个编码")
        if record["bundle_code"] is not None and record["code"] is not None:
            questions.setdefault(record["bundle_code"], {}).setdefault(record["code"], record["options"])
    _check_conditions(check, records, "condition", "显示条件", bundles, questions)
    _warn_cycles(check, records)
    return questions


def _holders(sheets, records, bundles):
    """{matter code: [bundle codes holding it]} from 一件事事项; None when that cannot be told.

    A matter whose row names a bundle that does not exist maps to None: that
    row's error is reported, and its conditions cannot be judged.
    """
    sheet = sheets.get(MEMBERS.name)
    if sheet is None:
        return {}
    if "bundle_code" not in sheet.positions or "matter_code" not in sheet.positions:
        return None
    held = {}
    for _, record in records[MEMBERS.name]:
        bundle, matter = record["bundle_code"], record["matter_code"]
        if bundle is None or matter is None:
            continue
        if bundles is not None and bundle not in bundles:
            held[matter] = None
        elif held.get(matter, []) is not None:
            held.setdefault(matter, []).append(bundle)
    return held


@dataclass(frozen=True)
class _CaseCondition:
    """A column whose conditions name a case's facts and its bundle's questions, and how its errors read."""
    attr: str  # the column
    label: str  # the condition as the messages name it
    thing: str  # what a row describes, before its code: 材料, 字段
    condition: Callable  # the condition text of a row's value ("" for none)


_MATERIAL_CONDITIONS = _CaseCondition("condition", "适用条件", "材料", lambda value: value or "")
# Our extension: 预填来源 申请人.姓名（当 Q5=母亲） fills only when its condition holds.
_PREFILL_CONDITIONS = _CaseCondition("prefill", "预填来源的条件", "字段", lambda value: vocabulary.prefill_parts(value)[1])


def _check_case_conditions(check, records, held, questions, column):
    """A condition names the facts or a question of a bundle holding its row's matter, with their values.

    A material's 适用条件 and a conditional 预填来源 follow the same rules. A
    matter shared by several bundles is asked in each by that bundle's own
    answers, so a question of any of them may be named; a value must be an
    option of that question in one of them.
    """
    facts = "、".join(conditions.FACTS)
    for row, record in records:
        source, matter = column.condition(record[column.attr]), record["matter_code"]
        if not source or matter is None:
            continue
        bundles = None if held is None else held.get(matter, [])
        if held is not None and bundles is None:
            continue  # a row of 一件事事项 names a bundle that does not exist: reported there
        for clause in conditions.parse(source):
            allowed = conditions.FACTS.get(clause.question)
            if allowed is None:
                if bundles is None or questions is None:
                    continue  # cannot tell: the sheet or column at fault is already reported
                askers = list(dict.fromkeys(bundle for bundle in bundles
                                            if clause.question in questions.get(bundle, {})))
                asked = [questions[bundle][clause.question] for bundle in askers]
                if not asked:
                    check.error(column.attr, row, _unknown_question(column.label, clause.question, matter, bundles,
                                                                    facts))
                    continue
                if len(askers) > 1:
                    check.warning(column.attr, row, _shared_question(column, clause.question, matter, record["code"],
                                                                     askers))
                allowed = [value for options in asked if options for value in options]
                if not allowed:
                    continue  # the question's own 选项 cell is wrong, already reported
            for value in sorted(clause.values - set(allowed)):
                if clause.question in conditions.FACTS:
                    message = f"{column.label}中 “{clause.question}” 只能是 {'|'.join(allowed)}，实际为 “{value}”"
                else:
                    message = (f"{column.label}中问题 “{clause.question}” 没有选项 “{value}”"
                               f"（可选：{'|'.join(dict.fromkeys(allowed))}）")
                check.error(column.attr, row, message)


def _shared_question(column, question, matter, code, bundles):
    # Each bundle numbers its own questions: the same code in two bundles is two questions that
    # merely share a name, so the condition may mean one thing in one bundle and another elsewhere.
    return (f"{column.thing} “{code}” 的{column.label}引用的问题 “{question}” 在包含事项 “{matter}” 的多个一件事"
            f"（{'、'.join(bundles)}）中都有：同一编码在各一件事中可能是不同的问题，条件含义不明确；"
            f"请确认在每个一件事中都应这样判断，或改用只有一个一件事才有的问题编码")


def _unknown_question(label, question, matter, bundles, facts):
    if not bundles:
        return (f"{label}引用了问题 “{question}”，但事项 “{matter}” 不属于任何一件事"
                f"（单独办理的事项只能以 {facts} 为条件）")
    return (f"{label}引用了问题 “{question}”，但包含事项 “{matter}” 的一件事"
            f"（{'、'.join(dict.fromkeys(bundles))}）都没有这个问题（也可以用 {facts}）")


def _check_members(check, records, matters, bundles, questions):
    _exists(check, records, "bundle_code", bundles, "一件事编码 “{}” 在“一件事”表中不存在")
    _exists(check, records, "matter_code", matters, "事项编码 “{}” 在“事项”表中不存在")
    _unique(check, records, ("bundle_code", "matter_code"), lambda b, m: f"一件事 “{b}” 的事项 “{m}” ")
    if questions is not None:
        _check_conditions(check, records, "condition", "适用条件", bundles, questions)


def _check_conditions(check, records, attr, label, bundles, questions):
    """Every clause must name a question of the row's bundle and one of that question's options."""
    for row, record in records:
        source, bundle = record[attr], record["bundle_code"]
        if not source or bundle is None or (bundles is not None and bundle not in bundles):
            continue
        asked = questions.get(bundle, {})
        for clause in conditions.parse(source):
            if clause.question not in asked:
                check.error(attr, row, f"{label}引用了一件事 “{bundle}” 中不存在的问题 “{clause.question}”")
                continue
            options = asked[clause.question]
            if options is None:
                continue  # the question's own 选项 cell is wrong, already reported
            for value in sorted(clause.values - set(options)):
                check.error(attr, row, f"{label}中问题 “{clause.question}” 没有选项 “{value}”"
                                       f"（可选：{'|'.join(options)}）")


def _warn_cycles(check, records):
    """A question whose display condition depends on itself is never asked: worth a warning."""
    depends = {}
    for row, record in records:
        if record["bundle_code"] is not None and record["code"] is not None and record["condition"]:
            refs = conditions.referenced(conditions.parse(record["condition"]))
            depends[(record["bundle_code"], record["code"])] = (row, refs)
    for (bundle, code), (row, refs) in depends.items():
        stack, seen = list(refs), set()
        while stack:
            other = stack.pop()
            if other == code:
                check.warning("condition", row, f"问题 “{code}” 的显示条件直接或间接依赖它自己，这个问题永远不会被问到")
                break
            if other not in seen:
                seen.add(other)
                stack.extend(depends.get((bundle, other), (0, ()))[1])


def _check_calendar(check, records):
    _unique(check, records, ("day",), lambda day: f"日期 {day.isoformat()} ")
