"""What Excel shows differently from what a sheet's cells hold: merged ranges and hidden rows and columns.

County staff merge a repeated bundle or matter code down over its rows; Excel
then shows the top-left cell's value across the whole range, while the file
holds it in that one cell only (LibreOffice may even keep other values in the
cells the merge covers, which nobody sees). The contract (catalogue-xlsx.md)
reads a merged range as Excel shows it: the top-left value in every cell it
covers, whatever lies under it, also when the range reaches over rows of two
records. Hidden sheets, rows and columns are read like visible ones, but the
officer who checks the file cannot see them, so they are listed as warnings.

openpyxl's read-only worksheets expose none of this, so the scan (xlsx_scan)
records it while it streams each sheet's XML: ``Layout`` is what it found.
``Merges`` fills the cells of the columns that are read, row by row, and
names the merge or the hidden row in a message about a cell.
"""
import bisect
import functools
import re
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string

_RANGE = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7}):([A-Za-z]{1,3})([0-9]{1,7})")
TRUE = ("1", "true")  # how Excel and LibreOffice write a true attribute
_LISTED = 20  # ranges named in one warning; the rest are counted


@dataclass
class Layout:
    """One sheet's merged ranges, hidden rows and hidden columns, as the scan found them."""

    merges: list = field(default_factory=list)  # (top, left, bottom, right), 1-based, as in the file
    hidden_rows: list = field(default_factory=list)  # rows holding a cell, in file order
    hidden_columns: list = field(default_factory=list)  # (first, last) column ranges declared hidden
    last_column: int = 0  # the last column holding a cell

    @functools.cached_property
    def hidden_row_set(self) -> frozenset:
        return frozenset(self.hidden_rows)

    def hidden_column(self, column: int) -> bool:
        return any(first <= column <= last for first, last in self.hidden_columns)

    def warnings(self) -> list[str]:
        """What the officer should know about this sheet, in Chinese, one sentence per kind."""
        found = []
        if self.hidden_rows:
            rows = sorted(self.hidden_row_set)
            found.append(f"第 {_runs(rows, str)} 行是隐藏的（共 {len(rows)} 行），"
                         "已和其他行一样读取；请在 Excel 中取消隐藏后核对")
        columns = sorted({column for first, last in self.hidden_columns
                          for column in range(first, min(last, self.last_column) + 1)})
        if columns:
            found.append(f"{_runs(columns, get_column_letter)} 列是隐藏的，已和其他列一样读取；"
                         "请在 Excel 中取消隐藏后核对")
        if self.merges:
            listed = "、".join(range_name(merge) for merge in self.merges[:_LISTED])
            more = f"等共 {len(self.merges)} 处" if len(self.merges) > _LISTED else f"共 {len(self.merges)} 处"
            found.append(f"有合并单元格 {listed}（{more}），按 Excel 显示的样子读取："
                         "合并区域中的每个单元格都取左上角单元格的值")
        return found


def parse_range(ref: str):
    """(top, left, bottom, right) of ``A2:B5``; None for one cell (a merge of nothing); ValueError if no range."""
    match = _RANGE.fullmatch(ref)
    if not match:
        raise ValueError(ref)
    left, top, right, bottom = (column_index_from_string(match[1].upper()), int(match[2]),
                                column_index_from_string(match[3].upper()), int(match[4]))
    top, bottom, left, right = min(top, bottom), max(top, bottom), min(left, right), max(left, right)
    if top < 1:
        raise ValueError(ref)
    return None if (top, left) == (bottom, right) else (top, left, bottom, right)


def range_name(merge) -> str:
    top, left, bottom, right = merge
    return f"{get_column_letter(left)}{top}:{get_column_letter(right)}{bottom}"


def corner_name(merge) -> str:
    return f"{get_column_letter(merge[1])}{merge[0]}"


def _runs(numbers, name) -> str:
    """``3、5–9、12`` for sorted numbers; at most ``_LISTED`` runs, then 等."""
    runs = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        elif not runs or number != runs[-1][1]:
            runs.append([number, number])
    words = [name(a) if a == b else f"{name(a)}–{name(b)}" for a, b in runs[:_LISTED]]
    return "、".join(words) + ("等" if len(runs) > _LISTED else "")


class Merges:
    """The merged ranges that reach the columns read, to fill them row by row as Excel shows them.

    Ranges on row 1 fill the header first, as far as it goes; then, once the
    columns read are known, ranges are kept per column read, sorted by their
    top row. Rows arrive in order, so each column's current range is found by
    moving a pointer, and a sheet without merges costs nothing. Two ranges that
    overlap where they are read are a damaged file (Excel cannot make them):
    the later one is left out and named in ``overlaps``.
    """

    def __init__(self, merges, width: int):
        self.header = []  # ranges starting on row 1 within the header's ``width`` cells
        self.overlaps = []  # (range left out, a range it overlaps)
        self.columns = {}  # column read -> its ranges, by top row (``read``)
        self._corners = {}  # range -> the value of its top-left cell, from its top row until it ends
        self._kept = []
        taken = bytearray(width + 2)  # header cells already covered, and by which range
        owners = [None] * (width + 2)
        for merge in sorted(merges):
            top, left, bottom, right = merge
            if top == 1 and left <= width:
                end = min(right, width) + 1
                clash = taken.find(1, left, end)
                if clash >= 0:
                    self.overlaps.append((merge, owners[clash]))
                    continue
                taken[left:end] = b"\1" * (end - left)
                owners[left:end] = [merge] * (end - left)
                self.header.append(merge)
            self._kept.append(merge)

    def read(self, columns) -> None:
        """Keep the ranges that reach ``columns`` (1-based: the columns read), to fill their cells."""
        kept_by = {column: [] for column in columns}
        for merge in self._kept:
            top, left, bottom, right = merge
            reached = [kept for column, kept in kept_by.items() if left <= column <= right]
            clash = next((kept[-1] for kept in reached if kept and kept[-1][2] >= top), None)
            if clash is not None:
                self.overlaps.append((merge, clash))
                continue
            for kept in reached:
                kept.append(merge)
        self._kept = []
        self.columns = {column: kept for column, kept in kept_by.items() if kept}
        self._next = dict.fromkeys(self.columns, 0)

    def __bool__(self):
        return bool(self.columns or self.header)

    def fill_header(self, values: list) -> None:
        """Row 1 as Excel shows it: a merged header stands in every column it covers."""
        for merge in self.header:
            left, right = merge[1], merge[3]
            self._corners[merge] = values[left - 1]
            for column in range(left + 1, min(right, len(values)) + 1):
                values[column - 1] = values[left - 1]

    def fill(self, row: int, values, picks) -> tuple[list, list, list]:
        """(the picked values of ``row``, the indexes among them that a merge filled, the hidden values).

        ``values`` is the row as read (every column up to the last one read),
        ``picks`` the 0-based positions read. A covered cell takes the top-left
        value of its range; a value of its own, which nobody sees in Excel, is
        given back as (index, range, value) so that it can be reported.
        """
        picked = [values[position] for position in picks]
        filled, hidden = [], []
        for index, position in enumerate(picks):
            kept = self.columns.get(position + 1)
            if kept is None:
                continue
            at = self._next[position + 1]
            while at < len(kept) and kept[at][2] < row:
                self._corners.pop(kept[at], None)
                at += 1
            self._next[position + 1] = at
            if at == len(kept) or kept[at][0] > row:
                continue
            merge = kept[at]
            top, left = merge[0], merge[1]
            if row == top:
                self._corners.setdefault(merge, values[left - 1] if left <= len(values) else None)
                if position + 1 == left:
                    continue
            shown, own = self._corners.get(merge), picked[index]
            if _seen(own) and _trimmed(own) != _trimmed(shown):
                hidden.append((index, merge, own))
            picked[index] = shown
            filled.append(index)
        return picked, filled, hidden

    def at(self, row: int, column: int):
        """The merged range holding the cell, if one does (among the columns read, and the header)."""
        kept = self.columns.get(column)
        if kept is not None:
            at = bisect.bisect_right(kept, (row, float("inf"))) - 1
            if at >= 0 and kept[at][0] <= row <= kept[at][2]:
                return kept[at]
        if row == 1:
            return next((merge for merge in self.header if merge[1] <= column <= merge[3]), None)
        return None


def _seen(value) -> bool:
    return value is not None and not (value.__class__ is str and not value.strip())


def _trimmed(value):
    return value.strip() if value.__class__ is str else value


def note(layout: Layout | None, merges: Merges | None, row: int, column: int) -> str:
    """What to add to a message about a cell that is merged or hidden: ``（A2:A5 是合并单元格…）``, or ''."""
    if layout is None or row < 1:
        return ""
    said = []
    if row in layout.hidden_row_set:
        said.append(f"第 {row} 行是隐藏的")
    if column and layout.hidden_column(column):
        said.append(f"{get_column_letter(column)} 列是隐藏的")
    merge = merges.at(row, column) if merges is not None and column else None
    if merge is not None:
        said.append(f"{range_name(merge)} 是合并单元格，各格都按左上角 {corner_name(merge)} 的值读取")
    return f"（{'；'.join(said)}）" if said else ""
