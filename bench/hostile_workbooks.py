"""The workbooks of bench/catalogue_hostile_bench.py: hostile ones and the largest valid ones.

Each function writes one workbook to ``path``. The hostile ones are written
directly as XML (tests/workbooks.py ``raw_workbook``), far faster than
openpyxl could; their contents vary enough to compress as real files do, so
that they pass the zip's compression-ratio check and reach the limits that
are meant to catch them. Needs tests/ and bench/ on ``sys.path`` (the bench
puts them there).
"""
import random
import zipfile

def _pool(count, make, seed=7):
    chooser = random.Random(seed)
    return [make(chooser) for _ in range(count)]


def _cycled(pool, count):
    for number in range(count):
        yield pool[number % len(pool)]


def reported_strings(path):
    """Issue 7: 10,000,000 shared strings (3.4 MB), once 3 min 17 s and 985 MB, accepted as valid."""
    from workbooks import many_shared_strings
    many_shared_strings(path, 10_000_000)


def reported_wide(path):
    """Issue 7: 100,000 rows × 110 cells (8.7 MB), once 3 min, 484 MB and an 83 MB page of 799,723 errors."""
    from workbooks import wide_material_rows
    wide_material_rows(path, 100_000, 110)


def strings_at_limit(path):
    """A shared string table of distinct numbers filling the 20 MB upload."""
    from workbooks import catalogue_xml, raw_workbook
    pool = _pool(4096, lambda c: b"".join(b"<si><t>%d</t></si>" % c.randrange(10**12) for _ in range(100)))
    raw_workbook(path, catalogue_xml(), _cycled(pool, 28_000))


def cells_at_limit(path):
    """One sheet of random numbers filling the 20 MB upload (about 7 million cells)."""
    from workbooks import MINIMAL, catalogue_xml, raw_workbook, rows_xml
    pool = _pool(2000, lambda c: b"".join(b"<c><v>%d</v></c>" % c.randrange(10**7) for _ in range(50)))

    def rows():
        yield from rows_xml([MINIMAL["材料"][0]])
        for number, cells in enumerate(_cycled(pool, 92_000), 2):
            yield b"<row>%s</row>" % cells
    raw_workbook(path, catalogue_xml(材料=rows()))


def errors_under_limits(path):
    """Just inside the cell limits, every cell wrong: 材料 79,990 rows × 10 cells and 表单 28,500 rows × 7."""
    from workbooks import MINIMAL, catalogue_xml, raw_workbook, rows_xml

    def bad_rows(sheet, count):
        header = MINIMAL[sheet][0]
        yield from rows_xml([header])
        pool = _pool(1000, lambda c: b"".join(
            b'<c t="inlineStr"><is><t>X%d</t></is></c>' % c.randrange(100) for _ in range(len(header))))
        for cells in _cycled(pool, count):
            yield b"<row>%s</row>" % cells
    raw_workbook(path, catalogue_xml(材料=bad_rows("材料", 79_990), 表单=bad_rows("表单", 28_500)))


def rows_under_limits(path):
    """A valid catalogue with nearly as many rows and cells as allowed: 材料 99,990 rows × 8 cells and
    表单 39,900 rows × 5 (140,000 rows, 140,000 distinct texts), all on one matter: the most memory."""
    from workbooks import MINIMAL, catalogue_xml, raw_workbook, rows_xml

    codes = random.Random(7).sample(range(10**8), 140_000)  # not in order, so that it compresses as real rows do

    def materials():
        yield from rows_xml([MINIMAL["材料"][0]])
        for number in codes[:99_990]:
            yield ('<row><c t="inlineStr"><is><t>M001</t></is></c><c t="inlineStr"><is><t>C%d</t></is></c>'
                   '<c t="inlineStr"><is><t>父母身份证</t></is></c><c t="inlineStr"><is><t>原件</t></is></c>'
                   '<c><v>1</v></c><c t="inlineStr"><is><t>纸质</t></is></c><c t="inlineStr"><is><t>政府部门核发'
                   '</t></is></c><c t="inlineStr"><is><t>必要</t></is></c></row>' % number).encode()

    def fields():
        yield from rows_xml([MINIMAL["表单"][0]])
        for number in codes[:39_900]:
            yield ('<row><c t="inlineStr"><is><t>M001</t></is></c><c t="inlineStr"><is><t>F%d</t></is></c>'
                   '<c t="inlineStr"><is><t>字段</t></is></c><c t="inlineStr"><is><t>文本</t></is></c>'
                   '<c t="inlineStr"><is><t>否</t></is></c></row>' % number).encode()
    raw_workbook(path, catalogue_xml(材料=materials(), 表单=fields()))


def texts_under_limits(path):
    """Rows as many as allowed, each with its own texts: 199,000 distinct texts, the most kept in memory."""
    from workbooks import MINIMAL, catalogue_xml, raw_workbook, rows_xml

    def rows():
        yield from rows_xml([MINIMAL["材料"][0]])
        for number in range(99_500):
            yield (b'<row><c t="inlineStr"><is><t>M001</t></is></c><c t="inlineStr"><is><t>C%d</t></is></c>'
                   b'<c t="inlineStr"><is><t>%s%d</t></is></c><c t="inlineStr"><is><t>%s</t></is></c>'
                   b'<c><v>1</v></c></row>') % (number, "材料名称".encode() * 4, number, "填报须知".encode() * 8)
    raw_workbook(path, catalogue_xml(材料=rows()))


def valid_at_limits(path):
    """A valid county catalogue near the cell limit: 5,400 matters, 54,000 material and 54,000 field rows."""
    import catalogue_bench
    catalogue_bench.MATTERS = 5400
    catalogue_bench.generate(path, version="bench-limits")


def county(path):
    """The catalogue bench's county: 2,000 matters, 43,000 rows (for reference)."""
    import catalogue_bench
    catalogue_bench.MATTERS = 2000
    catalogue_bench.generate(path, version="bench-county")


def styles_at_limit(path):
    """A valid minimal catalogue with 16,000 cell formats and 4,000 fonts (just inside the limit)."""
    from workbooks import Book, rewrite_member
    Book().save(path)
    fonts = b"".join(b'<font><sz val="%d"/><name val="SimSun"/></font>' % (8 + n % 40) for n in range(4000))
    # Book's dates use the second format: it stays a date format.
    xfs = b"".join(b'<xf numFmtId="%d" fontId="%d" fillId="0" borderId="0" xfId="0" applyFont="1">'
                   b'<alignment wrapText="1"/></xf>' % (14 if n == 1 else 0, n % 4000) for n in range(16_000))
    styles = (b'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/'
              b'spreadsheetml/2006/main"><fonts count="4000">%s</fonts><fills count="1"><fill><patternFill '
              b'patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1">'
              b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="16000">%s'
              b'</cellXfs></styleSheet>') % (fonts, xfs)
    rewrite_member(path, "xl/styles.xml", lambda data: styles)


def huge_tag(path):
    """One cell with 18 MB of attributes: a single tag that expat would have to hold whole."""
    from workbooks import catalogue_xml, raw_workbook, rows_xml, MINIMAL
    chooser = random.Random(7)
    attributes = b"".join(b' a%d="%d"' % (n, chooser.randrange(10**9)) for n in range(1_200_000))

    def rows():
        yield from rows_xml(MINIMAL["材料"])
        yield b'<row r="9"><c r="A9"%s/></row>' % attributes
    raw_workbook(path, catalogue_xml(材料=rows()))


def deep_nesting(path):
    """A cell nesting 1,000,000 elements inside each other (of random names, not to compress too well)."""
    from workbooks import catalogue_xml, raw_workbook, rows_xml, MINIMAL
    chooser = random.Random(7)
    names = [b"e%d" % chooser.randrange(10**6) for _ in range(1_000_000)]

    def rows():
        yield from rows_xml(MINIMAL["材料"])
        yield (b'<row r="9"><c r="A9" t="inlineStr"><is>' + b"".join(b"<%s>" % name for name in names)
               + b"".join(b"</%s>" % name for name in reversed(names)) + b"</is></c></row>")
    raw_workbook(path, catalogue_xml(材料=rows()))


def many_members(path):
    """A valid minimal catalogue plus 150,000 tiny zip members (what fits in 20 MB)."""
    from workbooks import Book
    Book().save(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as archive:
        for number in range(150_000):
            archive.writestr(f"m/{number}", b"")


def long_cell(path):
    """One cell holding 10 million characters."""
    from workbooks import catalogue_xml, raw_workbook, rows_xml, MINIMAL
    chooser = random.Random(7)
    text = "".join(chooser.choice("政务服务事项目录材料") for _ in range(10_000_000)).encode()

    def rows():
        yield from rows_xml(MINIMAL["材料"])
        yield b'<row r="9"><c r="J9" t="inlineStr"><is><t>%s</t></is></c></row>' % text
    raw_workbook(path, catalogue_xml(材料=rows()))


CASES = [reported_strings, reported_wide, strings_at_limit, cells_at_limit, errors_under_limits,
         rows_under_limits, texts_under_limits, valid_at_limits, county, styles_at_limit, huge_tag, deep_nesting,
         many_members, long_cell]
