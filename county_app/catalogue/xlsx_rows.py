"""Plain rows: a sheet as read, before the rules; and the problems found while reading and checking.

Kept apart from the rules (validate) so that the reader and the checker
share one notion of a sheet, a cell's place and a problem.
"""
from dataclasses import dataclass, field
from datetime import datetime

from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import WINDOWS_EPOCH

from .xlsx_columns import SHEET_ORDER, CellError, Column, Sheet, show
from .xlsx_layout import Layout, Merges

# Stands for a formula cell without a cached value: already reported, so no further error is due.
NO_VALUE = type("NoValue", (), {"__repr__": lambda self: "NO_VALUE"})()
FILE = "文件"


@dataclass(frozen=True)
class Problem:
    """One error or warning: where (``材料!F12``, ``材料!第 12 行``, ``材料``, ``文件``) and what, in Chinese."""

    place: str
    message: str
    # Orders problems as one reads the file (sheet, row, column); not part of the problem's identity.
    order: tuple = field(default=(), compare=False, repr=False)

    def __str__(self):
        return f"{self.place}: {self.message}"


# Problems listed to a person: a file with 800,000 errors once made an 83 MB page. The rest are counted.
MAX_LISTED = 200


class Problems:
    """The errors and warnings found so far: the first ``listed`` of each in file order, and how many in all.

    Keeping only the first few hundred bounds the memory a file full of errors
    can take, whatever the order in which the rules find them.
    """

    def __init__(self, listed: int = MAX_LISTED):
        self.listed = listed
        self._errors = _Kept()
        self._warnings = _Kept()
        self.error_count = 0
        self.warning_count = 0

    def error(self, place, message, order=(-1,)):
        """Record an error; ``order`` sorts it among the others (file-level ones first)."""
        self.error_count += 1
        self._keep(self._errors, Problem(place, message, order))

    def warning(self, place, message, order=(-1,)):
        """Record a warning; ``order`` as for ``error``."""
        self.warning_count += 1
        self._keep(self._warnings, Problem(place, message, order))

    def _keep(self, kept: "_Kept", problem: Problem):
        # A problem after the last of the first ``listed`` found so far can never be listed:
        # it is only counted. Rules report mostly in file order, so most go no further.
        if kept.cutoff is not None and not problem.order < kept.cutoff:
            return
        kept.append(problem)
        if len(kept) >= 2 * self.listed:  # sorted now and then, so that keeping costs little
            kept[:] = self._first(kept)
            kept.cutoff = kept[-1].order

    def _first(self, kept: list) -> list[Problem]:
        # A stable sort: problems at the same place stay in the order they were found.
        return sorted(kept, key=_order)[:self.listed]

    @property
    def errors(self) -> list[Problem]:
        """The first errors in file order."""
        return self._first(self._errors)

    @property
    def warnings(self) -> list[Problem]:
        """The first warnings in file order."""
        return self._first(self._warnings)

    def in_file_order(self) -> tuple[list[Problem], list[Problem]]:
        """The first errors and warnings, each sorted as they appear in the workbook."""
        return self.errors, self.warnings


def _order(problem: Problem) -> tuple:
    return problem.order


class _Kept(list):
    """Problems kept to be listed; ``cutoff`` is the order of the last listed one once there are enough."""

    cutoff = None


@dataclass
class SheetRows:
    """One sheet read into plain rows: only the columns it declares, trimmed, blank rows gone."""

    spec: Sheet
    positions: dict[str, int]  # column attr -> 0-based position of that column in the file
    rows: list[tuple[int, list]]  # (row number, values of the present columns, in spec order)
    epoch: datetime = WINDOWS_EPOCH  # the workbook's date system: what a plain number in a date column counts from
    layout: Layout | None = None  # merged ranges, hidden rows and columns (to name them in messages)
    merges: Merges | None = None

    @property
    def present(self) -> tuple[Column, ...]:
        """The declared columns found in the file, in declaration order (the order of row values)."""
        return tuple(column for column in self.spec.columns if column.attr in self.positions)

    def place(self, attr: str | None, row: int = 0) -> tuple[str, tuple]:
        """Where ``attr`` sits in ``row`` (the whole row if that column is missing), and its order key."""
        index = SHEET_ORDER[self.spec.name]
        position = self.positions.get(attr)
        if not row:
            return self.spec.name, (index, 0, 0)
        if position is None:
            return f"{self.spec.name}!第 {row} 行", (index, row, 0)
        return f"{self.spec.name}!{get_column_letter(position + 1)}{row}", (index, row, position + 1)


class Check:
    """Reports against one sheet's cells."""

    def __init__(self, sheet: SheetRows, problems: Problems):
        self.sheet = sheet
        self.problems = problems

    def error(self, attr, row, message):
        """An error at the cell of ``attr`` in ``row``."""
        place, order = self.sheet.place(attr, row)
        self.problems.error(place, message, order)

    def warning(self, attr, row, message):
        """A warning at the cell of ``attr`` in ``row``."""
        place, order = self.sheet.place(attr, row)
        self.problems.warning(place, message, order)

    def cell(self, attr, row):
        """The place of a cell, to name it in a message about another one."""
        return self.sheet.place(attr, row)[0]


def parse_rows(sheet: SheetRows, problems: Problems) -> list[tuple[int, dict]]:
    """Each row as {attr: model value}; a bad or blank required cell is reported and reads None.

    The sheet's plain rows are handed over (the sheet is left without rows), so that a county
    catalogue is not held twice, as cells and as records.
    """
    present = sheet.present
    # A missing required column was reported once for the sheet, not once per row.
    absent = {
        column.attr: None if column.required else column.default
        for column in sheet.spec.columns
        if column.attr not in sheet.positions
    }
    check = Check(sheet, problems)
    records = []
    rows, sheet.rows = sheet.rows, []
    rows.reverse()
    while rows:  # popped, so that each row's cells are freed as its record is made
        row, values = rows.pop()
        record = dict(absent)
        for column, value in zip(present, values):
            if value is None:
                if column.required:
                    check.error(column.attr, row, f"{column.header}不能为空")
                    record[column.attr] = None
                else:
                    record[column.attr] = column.default
            elif value is NO_VALUE:
                record[column.attr] = None
            else:
                try:
                    record[column.attr] = column.read(value, sheet.epoch)
                except CellError as error:
                    check.error(column.attr, row, f"{column.header}{error}，实际为 {show(value)}{error.hint}")
                    record[column.attr] = None
        records.append((row, record))
    return records
