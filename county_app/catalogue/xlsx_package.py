"""The .xlsx file as a zip package: checks made before openpyxl sees it, and the formula scan.

A workbook comes from outside (a USB stick, an e-mail), so it is treated as
hostile until shown otherwise: its size, its unpacked size and the
compression ratio of its members are checked from the zip directory alone.
The declared sizes can be trusted as an upper bound: Python's zipfile stops
at the declared size and fails the CRC check if a member holds more.
"""
import os
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from defusedxml.ElementTree import fromstring, iterparse
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much a catalogue workbook may hold before it is refused unread.

    The zip directory is checked first (the first five), then the counts of
    xlsx_scan, made by streaming the XML before openpyxl reads any of it, and
    the distinct texts as they are read. A county catalogue (a few thousand
    matters, tens of thousands of material and field rows: 2,000 matters are
    43,000 rows and 0.32 million cells, 5,000 are 105,000 rows and 0.79
    million) stays inside every one. openpyxl spends ~20 µs on a cell and
    the checks ~1 KB on a row, so at these limits any file is answered within
    21 s and 153 MB on the development machine, against a target of 60 s and
    200 MB (bench/catalogue_hostile_bench.py, figures in bench/RESULTS.md).
    """

    max_file_bytes: int = 20 * MB
    max_unpacked_bytes: int = 200 * MB
    max_ratio: float = 100  # uncompressed : compressed, for any member ...
    ratio_floor_bytes: int = 1 * MB  # ... over this size (small members compress wildly)
    max_members: int = 1_000  # files in the zip (a workbook has 10–30)
    max_rows: int = 100_000  # data rows per sheet
    max_total_rows: int = 150_000  # data rows holding a cell, all sheets together
    max_columns: int = 1_000  # the last column a cell may use (a catalogue sheet has 7–13)
    max_sheet_cells: int = 800_000  # cells of one sheet, empty formatted ones included
    max_cells: int = 1_000_000  # cells of all sheets
    max_strings: int = 200_000  # entries of the shared string table
    max_texts: int = 200_000  # distinct texts kept from the cells we read (counted as they are read)
    max_text_chars: int = 20_000_000  # characters of all texts: shared strings and cells' own
    max_cell_chars: int = 32_767  # characters in one cell: Excel's own limit
    max_elements: int = 6_000_000  # XML elements of the whole package
    max_part_elements: int = 50_000  # XML elements of another part: 16,000 cell formats in styles.xml
    max_depth: int = 64  # nesting of XML elements (a workbook nests about 10 deep)
    max_tag_bytes: int = 1 * MB  # bytes of XML without an element boundary: one tag or text
    max_merges: int = 50_000  # merged ranges of all sheets (a county merging each matter's code: ~10,000)


DEFAULT_LIMITS = Limits()

NOT_A_WORKBOOK = "文件不是 Excel 工作簿 (.xlsx)"


class PackageError(Exception):
    """The file is not a workbook we are willing to open; the message is in Chinese.

    ``place`` names the sheet (or ``sheet!cell``) when the problem lies there; None for the file.
    """

    def __init__(self, message: str, place: str | None = None):
        super().__init__(message)
        self.place = place


def megabytes(size: int) -> str:
    """A size for a message: 35.2 MB."""
    return f"{size / MB:.1f} MB" if size < 10 * MB else f"{size // MB} MB"


def declared_members(path) -> int | None:
    """How many files the zip at ``path`` says it holds, from its end record alone (None if it has none).

    Read before ``zipfile.ZipFile``, which builds an object for every entry of the
    directory: 150,000 empty entries fit in 13 MB and cost it 80 MB.
    """
    try:
        return _declared_members(path)
    except OSError:
        return None  # zipfile will say what is wrong


def _declared_members(path) -> int | None:
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - (22 + 0xFFFF + 20)))  # the end record, its comment, a zip64 locator
        tail = handle.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        entries = int.from_bytes(tail[at + 10:at + 12], "little")
        if entries == 0xFFFF and at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":
            handle.seek(int.from_bytes(tail[at - 12:at - 4], "little"))
            record = handle.read(40)
            if record[:4] == b"PK\x06\x06" and len(record) == 40:
                entries = int.from_bytes(record[32:40], "little")
        return entries


def check_archive(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse zip bombs: too many members, too much unpacked data in total, or a member compressed too well."""
    members = archive.infolist()
    too_many(len(members), limits)
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > limits.ratio_floor_bytes:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > limits.max_ratio:
                raise PackageError(
                    f"压缩包中 “{member.filename}” 的压缩比为 {ratio:.0f}:1，超过上限 "
                    f"{limits.max_ratio:g}:1，可能是恶意构造的文件，已拒绝读取"
                )
    if total > limits.max_unpacked_bytes:
        raise PackageError(
            f"解压后的内容共 {megabytes(total)}，超过上限 {megabytes(limits.max_unpacked_bytes)}，"
            "可能是恶意构造的文件，已拒绝读取"
        )


def too_many(members: int | None, limits: Limits) -> None:
    """Refuse a zip of more files than a workbook ever has."""
    if members is not None and members > limits.max_members:
        raise PackageError(f"压缩包中有 {members} 个文件，超过上限 {limits.max_members} 个，"
                           "可能是恶意构造的文件，已拒绝读取")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _attribute(element, name: str) -> str | None:
    """An attribute by local name, whatever its namespace (transitional or strict OOXML)."""
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """{relationship id: (type, member name)} of ``part`` ('' for the package itself)."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    root = fromstring(archive.read(rels))
    found = {}
    for rel in root:
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(folder, target))
        found[rel.get("Id")] = (rel.get("Type", ""), member)
    return found


def worksheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: zip member of its XML}; raises PackageError if this zip is no workbook."""
    try:
        package = _relationships(archive, "")
        workbook = next(member for kind, member in package.values() if kind.endswith("/officeDocument"))
        parts = _relationships(archive, workbook)
        root = fromstring(archive.read(workbook))
    except Exception:  # noqa: BLE001 - any failure here means "not a workbook", whatever its kind
        raise PackageError(NOT_A_WORKBOOK) from None
    members = {}
    for element in root.iter():
        if _local(element.tag) == "sheet":
            kind, member = parts.get(_attribute(element, "id"), ("", ""))
            if kind.endswith("/worksheet"):
                members[element.get("name", "")] = member
    return members


# Byte strings that any formula (<f>…</f>, </x:f>, <f t="shared" …/>) or error value
# (t="e") leaves in the XML. Plain substring tests run at memory speed, a regex would not.
_MARKERS = (b"f>", b"<f ", b":f ", b't="e"')


def _mentions_formula(archive: zipfile.ZipFile, member: str) -> bool:
    """A cheap byte scan, so that sheets without formulas (the usual case) are not parsed twice."""
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(MB):
            seam = tail + chunk[:8]  # a marker may straddle two chunks
            if any(marker in chunk or marker in seam for marker in _MARKERS):
                return True
            tail = chunk[-8:]
    return False


def cells_without_value(archive: zipfile.ZipFile, member: str) -> Iterator[tuple[int, int, str]]:
    """(row, column, why) of each formula cell with no cached value, and of each error value (#N/A …).

    openpyxl's ``data_only`` mode reads both as if they were ordinary cells
    (None or "#N/A"), so they are found in the sheet's XML instead.
    """
    if not _mentions_formula(archive, member):
        return
    row = column = 0
    with archive.open(member) as stream:
        for event, element in iterparse(stream, events=("start", "end")):
            tag = _local(element.tag)
            if event == "start":
                if tag == "row":
                    number = element.get("r")
                    row = int(number) if number else row + 1
                    column = 0
                continue
            if tag == "c":
                reference = element.get("r")
                if reference:
                    letters, row = coordinate_from_string(reference)
                    column = column_index_from_string(letters)
                else:
                    column += 1
                why = _why_no_value(element)
                if why:
                    yield row, column, why
                element.clear()
            elif tag == "row":
                element.clear()


def _why_no_value(cell) -> str | None:
    formula = value = None
    for child in cell:
        tag = _local(child.tag)
        if tag == "f":
            formula = child
        elif tag == "v":
            value = child.text
    kind = cell.get("t")
    if kind == "e":
        return f"单元格的值是错误值 {value or '(未知)'}，请改正公式或改为普通值"
    # A formula whose result is empty text legitimately caches <v></v> with t="str".
    if formula is not None and not value and kind != "str":
        return "公式没有缓存值（文件未经 Excel 计算保存），请在 Excel 中打开并保存后再导入，或改为普通值"
    return None
