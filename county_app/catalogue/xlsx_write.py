"""Writing a Catalogue as a catalogue workbook (.xlsx) that reads back to the same catalogue.

Every sheet of the contract is written, with its Chinese headers and words,
dates as real Excel dates and lists joined by ``|``.
"""
import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .model import Catalogue
from .xlsx_columns import INFO, INFO_ITEMS, SHEETS

# Excel (and LibreOffice) take a typed cell starting with these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@")


def write_workbook(catalogue: Catalogue, path) -> None:
    """Write ``catalogue`` to ``path`` as an .xlsx following the catalogue workbook contract."""
    workbook = openpyxl.Workbook(write_only=True)
    bold = Font(bold=True)
    for spec in SHEETS:
        sheet = workbook.create_sheet(spec.name)
        sheet.freeze_panes = "A2"
        # Write-only sheets take column widths only before the first row.
        for number, column in enumerate(spec.columns, 1):
            sheet.column_dimensions[get_column_letter(number)].width = column.width
        if spec is INFO:
            rows = [[item.header, item.write(getattr(catalogue.info, item.attr))] for item in INFO_ITEMS]
        else:
            rows = [[column.write(getattr(record, column.attr)) for column in spec.columns]
                    for record in getattr(catalogue, spec.holds)]
        # openpyxl's read-only mode parses a whole sheet once more when <dimension> is missing,
        # and write-only sheets leave it out unless told the size in advance.
        size = f"A1:{get_column_letter(len(spec.columns))}{len(rows) + 1}"
        sheet.calculate_dimension = lambda size=size: size
        header = []
        for column in spec.columns:
            cell = WriteOnlyCell(sheet, value=column.header)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in rows:
            sheet.append([_cell(sheet, value) for value in row])
    workbook.save(path)


def _cell(sheet, value):
    """A value as written; text that Excel could take for a formula becomes an explicit text cell."""
    if not isinstance(value, str):
        return value
    # Control characters are not allowed in the file format; they carry no meaning in a catalogue.
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value.startswith(_FORMULA_STARTS):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
    return cell
