"""Reading a catalogue workbook (.xlsx) into a validated Catalogue, with every problem it has.

Steps: refuse hostile files from the zip directory alone (xlsx_package);
count what the package holds by streaming its XML, and refuse it past a limit
(xlsx_scan); read each sheet into plain rows with openpyxl (read-only, cached values),
as Excel shows them: merged ranges filled, hidden sheets, rows and columns
read and reported (xlsx_layout); find formula cells without a cached value in
the sheet XML; then check every rule on the plain rows (validate). Nothing
here touches Flask or the database.
"""
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

import openpyxl
from defusedxml import DefusedXmlException
from openpyxl.utils import get_column_letter

from .model import Catalogue
from .validate import build_catalogue, info_place
from .xlsx_rows import FILE, NO_VALUE, Problem, Problems, SheetRows
from .xlsx_columns import SHEET_ORDER, SHEETS, Sheet, show
from .xlsx_layout import Merges, corner_name, note, range_name
from .xlsx_package import (
    DEFAULT_LIMITS, NOT_A_WORKBOOK, Limits, PackageError, megabytes, cells_without_value, check_archive,
    declared_members, too_many,
)
from .xlsx_scan import take_inventory

__all__ = ["DEFAULT_LIMITS", "Limits", "Problem", "ReadResult", "read_workbook"]

_SPECS = {sheet.name: sheet for sheet in SHEETS}
_UNKNOWN_SHEET_ORDER = (len(SHEETS),)
_NOT_ZIP_HINT = "：请在 Excel 中另存为 .xlsx 格式（旧版 .xls 和设置了打开密码的文件不能直接导入）"


@dataclass
class ReadResult:
    """What reading a workbook gave: the catalogue (None if there is any error) and its problems.

    ``errors`` and ``warnings`` are the first ``Problems.listed`` of each in file order;
    the counts say how many there are in all.
    """

    catalogue: Catalogue | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    version_place: str = "目录信息"  # the cell holding 目录版本, to name it in a message
    published_place: str = "目录信息"  # the cell holding 发布日期

    def __post_init__(self):
        self.error_count = max(self.error_count, len(self.errors))
        self.warning_count = max(self.warning_count, len(self.warnings))

    @property
    def ok(self) -> bool:
        return not self.errors


class _ReadLimit(Exception):
    """A limit passed while reading a sheet (already reported): reading stops."""


class _CorruptSheet(Exception):
    pass


def read_workbook(path, *, limits: Limits = DEFAULT_LIMITS, progress=None) -> ReadResult:
    """Read and validate the catalogue workbook at ``path`` (any file name; the content decides).

    Finds every error and warning at once and lists the first few hundred of
    each in file order, with their counts; ``catalogue`` is set only when there
    is no error. Never raises for a bad file. ``progress(stage, done, total)``,
    if given, is told what is being done (a Chinese label) and how far it is.
    openpyxl's own warnings are captured and reported (``warnings.catch_warnings``
    is process-wide, so do not read two workbooks at once in threads).
    """
    problems = Problems()
    sheets = _read_sheets(path, limits, problems, progress or _quiet)
    catalogue = None
    if sheets is not None:
        (progress or _quiet)("检查内容", 0, 0)
        catalogue = build_catalogue(sheets, problems)
    errors, warnings_ = problems.in_file_order()
    errors = _with_notes(errors, sheets or {})
    return ReadResult(None if errors else catalogue, errors, warnings_, problems.error_count,
                      problems.warning_count, info_place(sheets or {}, "目录版本"),
                      info_place(sheets or {}, "发布日期"))


def _quiet(stage, done, total):
    pass


def _with_notes(errors: list[Problem], sheets: dict[str, SheetRows]) -> list[Problem]:
    """The errors, each about a merged or hidden cell saying so: the officer looks for it in Excel."""
    by_index = {SHEET_ORDER[name]: sheet for name, sheet in sheets.items()}
    noted = []
    for error in errors:
        order = error.order
        sheet = by_index.get(order[0]) if len(order) == 3 else None
        said = note(sheet.layout, sheet.merges, order[1], order[2]) if sheet is not None else ""
        noted.append(Problem(error.place, error.message + said, order) if said else error)
    return noted


_HIDDEN_SHEET = {
    "hidden": "这个工作表是隐藏的，已照常读取；请在 Excel 中取消隐藏后核对",
    "veryHidden": "这个工作表被深度隐藏（Excel 的“取消隐藏”中也不列出），已照常读取；请让制作文件的人取消隐藏后核对",
}


def _read_sheets(path, limits: Limits, problems: Problems, progress) -> dict[str, SheetRows] | None:
    """The known sheets as plain rows, or None when the file cannot be read at all."""
    try:
        size = os.path.getsize(path)
    except OSError as error:
        problems.error(FILE, f"无法打开文件：{error.strerror or error}")
        return None
    if size > limits.max_file_bytes:
        problems.error(FILE, f"文件太大（{megabytes(size)}），上限为 {megabytes(limits.max_file_bytes)}")
        return None
    try:
        too_many(declared_members(path), limits)
    except PackageError as error:
        problems.error(FILE, str(error))
        return None
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        problems.error(FILE, NOT_A_WORKBOOK + _NOT_ZIP_HINT)
        return None
    with archive:
        try:
            check_archive(archive, limits)
            inventory = take_inventory(archive, limits, lambda done, total: progress("检查文件结构", done, total))
        except PackageError as error:
            place = error.place or FILE
            sheet = _SPECS.get(place.partition("!")[0])
            problems.error(place, str(error), (SHEET_ORDER[sheet.name], 0, 0) if sheet else (-1,))
            return None
        members = inventory.members
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sheets = _open_and_read(path, limits, problems, inventory, progress)
        for warning in caught:
            # Files saved by other programs often lack a default style: harmless, not worth a word.
            if "default style" not in str(warning.message):
                problems.warning(FILE, f"读取文件时的提示（英文原文）：{warning.message}")
        if sheets is None:
            return None
        for title, sheet in sheets.items():
            if title in members:
                _mark_cells_without_value(archive, members[title], sheet, problems)
    return {sheet.spec.name: sheet for sheet in sheets.values()}


def _open_and_read(path, limits, problems, inventory, progress) -> dict[str, SheetRows] | None:
    """{sheet title: rows} of the known sheets; openpyxl is always closed again."""
    # A file object spares openpyxl's check of the file name's extension. External links
    # hold cached copies of other workbooks, which the catalogue never needs.
    with open(path, "rb") as stream:
        try:
            workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True, keep_links=False)
        except Exception as error:  # noqa: BLE001 - hostile input may break openpyxl in any way
            problems.error(FILE, f"{NOT_A_WORKBOOK}，或文件已损坏（{type(error).__name__}）")
            return None
        try:
            sheets = {}
            texts = {}  # every distinct text kept, across the sheets
            for worksheet in workbook.worksheets:
                spec = _SPECS.get(worksheet.title.strip())
                hidden = worksheet.sheet_state in _HIDDEN_SHEET
                if spec is None:
                    problems.warning(worksheet.title, "未知的工作表，已忽略" + ("（隐藏的工作表）" if hidden else ""),
                                     _UNKNOWN_SHEET_ORDER)
                    continue
                if any(sheet.spec is spec for sheet in sheets.values()):
                    # "事项" and "事项 " look the same to a person: which one is meant cannot be told.
                    problems.error(worksheet.title, f"与工作表 “{spec.name}” 重名（只差空格）",
                                   (SHEET_ORDER[spec.name], 0, 0))
                    continue
                counted = inventory.sheets.get(worksheet.title)
                order = (SHEET_ORDER[spec.name], 0, 0)
                if hidden:
                    problems.warning(spec.name, _HIDDEN_SHEET[worksheet.sheet_state], order)
                for said in counted.layout.warnings() if counted else ():
                    problems.warning(spec.name, said, order)

                def tell(done, title=worksheet.title, total=counted.rows if counted else 0):
                    progress(f"读取工作表 “{title}”", done, total)

                try:
                    sheets[worksheet.title] = _read_sheet(worksheet, spec, limits, problems, texts, tell,
                                                          SheetRows(spec, {}, [], workbook.epoch,
                                                                    counted.layout if counted else None))
                except _CorruptSheet as error:
                    # What follows from a half-read sheet would only mislead: stop here.
                    problems.error(spec.name, f"工作表内容已损坏，无法读取（{error}）",
                                   (SHEET_ORDER[spec.name], 0, 0))
                    return None
            return sheets
        except _ReadLimit:
            return None
        finally:
            workbook.close()


def _guarded(rows):
    """openpyxl's rows, with its failures on a corrupt sheet told apart from ours."""
    try:
        yield from rows
    except Exception as error:  # noqa: BLE001 - see _open_and_read
        raise _CorruptSheet(type(error).__name__) from error


def _read_sheet(worksheet, spec: Sheet, limits: Limits, problems: Problems, texts: dict, progress,
                sheet: SheetRows) -> SheetRows:
    """The declared columns of one sheet into ``sheet``, found by header text; raises _ReadLimit past a limit.

    ``texts`` holds one object per distinct text: inline strings (openpyxl and our own
    export write them) arrive as a new object per cell, and a county catalogue repeats
    the same few words in every row. Their number bounds the memory the rows take.
    """
    # The stored dimension may be absent or wrong; without it openpyxl reads what is really there.
    worksheet.reset_dimensions()
    index = SHEET_ORDER[spec.name]
    rows = _guarded(worksheet.iter_rows(max_row=1, values_only=True))
    header = list(next(rows, ()))
    rows.close()
    merges = None
    if sheet.layout is not None and sheet.layout.merges:
        # Writers other than Excel (openpyxl, some WPS versions) leave a merge's covered cells out of
        # the file: Excel still shows the header in them, so row 1 reaches as far as its merges do.
        reach = max((right for top, left, _, right in sheet.layout.merges if top == 1 and left <= len(header)),
                    default=0)
        header += [None] * (reach - len(header))
        merges = sheet.merges = Merges(sheet.layout.merges, len(header))
        merges.fill_header(header)

    by_header = {column.header: column for column in spec.columns}
    positions = {}
    for position, value in enumerate(header):
        title = (value if isinstance(value, str) else "" if value is None else str(value)).strip()
        if not title:
            continue
        place = f"{spec.name}!{get_column_letter(position + 1)}1"
        order = (index, 1, position + 1)
        column = by_header.get(title)
        if column is None:
            problems.warning(place, f"未知的列 “{title}”，已忽略", order)
        elif column.attr in positions:
            first = get_column_letter(positions[column.attr] + 1)
            problems.error(place, f"列 “{title}” 重复（与 {first}1 相同）", order)
        else:
            positions[column.attr] = position

    sheet.positions = positions
    picks = [positions[column.attr] for column in sheet.present]
    if not picks:
        return sheet
    if merges is not None:
        merges.read([position + 1 for position in picks])
        for merge, other in merges.overlaps:
            problems.error(spec.name, f"合并单元格 {range_name(merge)} 与 {range_name(other)} 重叠，文件已损坏；"
                                      "请在 Excel 中取消这两处合并后重新合并", (index, 0, 0))
    width = max(picks) + 1
    for number, values in enumerate(
            _guarded(worksheet.iter_rows(min_row=2, max_col=width, values_only=True)), 2):
        # Counted as rows arrive: the stored dimension is not to be trusted.
        if number - 1 > limits.max_rows:
            problems.error(spec.name, f"数据超过 {limits.max_rows} 行的上限，已停止读取",
                           (index, 0, 0))
            raise _ReadLimit
        if not number % 1000:
            progress(number - 1)
        filled = ()
        if merges:
            picked, filled, hidden = merges.fill(number, values, picks)
            for i, merge, own in hidden:
                column = picks[i] + 1
                problems.warning(f"{spec.name}!{get_column_letter(column)}{number}",
                                 f"这格被合并单元格 {range_name(merge)} 遮住，它自己的内容 {show(own)} 在 Excel 中"
                                 f"看不到，已按 Excel 显示的左上角 {corner_name(merge)} 的值读取", (index, number, column))
        else:
            picked = [values[position] for position in picks]
        blank = True
        for i, value in enumerate(picked):
            if value.__class__ is str:
                value = value.strip()
                if not value:
                    picked[i] = None
                    continue
                blank = False
                kept = picked[i] = texts.setdefault(value, value)
                if kept is value and len(texts) > limits.max_texts:
                    problems.error(spec.name, f"不同的文字超过 {limits.max_texts} 条的上限，已停止读取",
                                   (index, 0, 0))
                    raise _ReadLimit
            elif value is not None:
                blank = False
        if filled and not blank:
            # A row that only a merge from above reaches into holds no record of its own.
            blank = all(picked[i] is None for i in range(len(picked)) if i not in filled)
        if not blank:
            sheet.rows.append((number, picked))
    return sheet


def _mark_cells_without_value(archive, member: str, sheet: SheetRows, problems: Problems) -> None:
    """Report formula cells without a cached value in the columns we read, and blank them out."""
    present = {sheet.positions[column.attr] + 1: i for i, column in enumerate(sheet.present)}
    by_number = None
    try:
        for row, column, why in cells_without_value(archive, member):
            if row != 1 and column not in present:
                continue
            place = f"{sheet.spec.name}!{get_column_letter(column)}{row}"
            problems.error(place, why, (SHEET_ORDER[sheet.spec.name], row, column))
            if row == 1:
                continue
            if by_number is None:
                by_number = dict(sheet.rows)
            values = by_number.get(row)
            if values is None:  # the row looked blank: its only values were formulas like this
                values = by_number[row] = [None] * len(present)
            values[present[column]] = NO_VALUE
    except (ParseError, DefusedXmlException, zipfile.BadZipFile, OSError, RuntimeError,
            NotImplementedError) as error:
        problems.error(sheet.spec.name, f"工作表内容已损坏，无法读取（{type(error).__name__}）",
                       (SHEET_ORDER[sheet.spec.name], 0, 0))
    if by_number is not None:
        sheet.rows[:] = sorted(by_number.items())
