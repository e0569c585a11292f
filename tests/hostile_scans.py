"""Test and bench helper: hostile "scans" made here, each about ``size`` bytes (the reported ones by default).

Every maker takes the target size in bytes and gives the file's bytes; the
bench (bench/scan_check_bench.py) builds them at the 20 MB upload limit, the
tests at the sizes of the report. ``HOSTILE`` names them all; ``normal_pdf``
and ``normal_tiff`` are honest scans of a given size, the bench's baseline.
"""
import io
import struct
import zlib

MB = 1024 * 1024


def pdf(objects, *, root=1, extra_trailer=b"", xref=True):
    """A PDF of ``objects`` (bodies of objects 1, 2, …) with a correct xref table unless ``xref`` is False."""
    out, offsets = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    start = len(out)
    if xref:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, root, extra_trailer, start)
    return bytes(out)


def page_pdf(pages, declared=None):
    """A valid PDF of ``pages`` blank pages whose page tree declares ``declared`` pages (default: the truth)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages if declared is None else declared)]
               + [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages)


# ----------------------------------------------------------------------------- PDF


def count_tokens(size=108 * 1024):
    """The report's file: no ``/Type /Page``, only ``/Count`` tokens (the old regex was quadratic on it)."""
    head, tail = b"%PDF-1.4\n", b"\n%%EOF\n"
    return head + b"/Count 1 " * ((size - len(head) - len(tail)) // 9) + tail


def huge_declared_count(size=0, count=999_999_999_999):
    """One page (without the optional-in-practice ``/Type /Page``) under a page tree that declares ``count`` pages.

    With no ``/Type /Page`` to count, the old code took the tree's /Count: it stored 999999999999 pages,
    and a 24-digit count overflowed SQLite's integer after the file was written (a 500 and an orphan).
    """
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count %d >>" % count,
                b"<< /Parent 2 0 R /MediaBox [0 0 595 842] >>"])


def html_after_header(size=4096):
    """``%PDF-`` followed by a web page (what a browser saves when a download fails)."""
    body = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
    body += b"<p>upstream error</p>" * max(1, (size - 200) // 21) + b"</body></html>\n"
    return b"%PDF-1.4\n" + body + b"%%EOF\n"


def many_pages(size=20 * MB):
    """A valid page tree with as many pages as ``size`` holds (hundreds of thousands at 20 MB)."""
    return page_pdf(max(1, (size - 200) // 106))


def deep_tree(size=20 * MB):
    """A page tree nested as deep as ``size`` holds: each /Pages node has one kid, the last one a page."""
    depth = max(2, (size - 200) // 88)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (level + 3))
    objects.append(b"<< /Type /Page /MediaBox [0 0 595 842] >>")
    return pdf(objects)


def cyclic_tree(size=0):
    """A page tree whose second level points back at the root."""
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
                b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>",
                b"<< /Type /Page /MediaBox [0 0 595 842] >>"])


def shared_kids(size=0):
    """A page tree of 60 levels, each node listing the next one twice: 2**60 pages if walked naively."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(60):
        objects.append(b"<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count 2 >>" % (level + 3, level + 3))
    objects.append(b"<< /Type /Page /MediaBox [0 0 595 842] >>")
    return pdf(objects)


def xref_loop(size=0):
    """A trailer whose /Prev names its own xref section."""
    body = page_pdf(1)
    start = int(body.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    return body.replace(b"/Root 1 0 R", b"/Root 1 0 R /Prev %d" % start)


def xref_chain(size=20 * MB):
    """As many trailers as ``size`` holds, each /Prev naming the one before (a long walk of xref sections)."""
    out = bytearray(page_pdf(1))
    previous = int(bytes(out).rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    while len(out) < size - 200:
        start = len(out)
        out += b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 5 /Root 1 0 R /Prev %d >>\n" % previous
        previous = start
    out += b"startxref\n%d\n%%%%EOF\n" % previous
    return bytes(out)


def no_xref(size=20 * MB):
    """Objects without any xref table, as many as ``size`` holds: the reader must rebuild it by scanning."""
    count = max(4, (size - 200) // 29)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /MediaBox [0 0 595 842] >>"] + [b"[1 2 3]"] * (count - 3)
    return pdf(objects, xref=False)


def object_stream_bomb(size=20 * MB):
    """The page tree inside an object stream whose Flate data inflates ~1000-fold (20 GB from 20 MB)."""
    compressor = zlib.compressobj(9)
    head = compressor.compress(b"2 0 << /Type /Pages /Kids [] /Count 0 >> ") + compressor.flush(zlib.Z_FULL_FLUSH)
    # After a full flush a block stands alone, so one megabyte of zeros compressed once can be repeated.
    block = compressor.compress(b"\x00" * MB) + compressor.flush(zlib.Z_FULL_FLUSH)
    return xref_stream_pdf(head + block * max(1, (size - 1024 - len(head)) // len(block)), first=4)


def xref_stream_pdf(object_stream, *, first, count=1, flate=True):
    """A PDF 1.5 whose object 2 (the page tree) lives in ``object_stream`` (object 3), with an xref stream."""
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    catalog = len(out)
    out += b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    stream = len(out)
    out += b"3 0 obj\n<< /Type /ObjStm /N %d /First %d /Length %d %s>>\nstream\n" % (
        count, first, len(object_stream), b"/Filter /FlateDecode " if flate else b"") + object_stream + b"\nendstream\nendobj\n"
    xref = len(out)
    rows = (struct.pack(">BIH", 0, 0, 65535) + struct.pack(">BIH", 1, catalog, 0)
            + struct.pack(">BIH", 2, 3, 0) + struct.pack(">BIH", 1, stream, 0) + struct.pack(">BIH", 1, xref, 0))
    out += b"4 0 obj\n<< /Type /XRef /Size 5 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(rows)
    out += rows + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def huge_object_stream(size=20 * MB):
    """An object stream declaring a billion objects, with an index of numbers as long as ``size`` holds."""
    index = b"".join(b"%d %d " % (i + 2, i) for i in range((size - 300) // 16))
    return xref_stream_pdf(index + b"<< /Type /Pages /Kids [] /Count 0 >>", first=len(index),
                           count=1_000_000_000, flate=False)


def nested_arrays(size=20 * MB):
    """One object of arrays nested as deep as ``size`` holds."""
    depth = (size - 300) // 2
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"[" * depth + b"]" * depth])


# ----------------------------------------------------------------------------- images


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(width, height):
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))


def png_bomb(size=0):
    """A PNG declaring 100,000 × 100,000 pixels (tens of gigabytes once decoded)."""
    return png_header(100_000, 100_000) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) \
        + png_chunk(b"IEND", b"")


def png_junk(size=4096):
    """A PNG signature and header, then junk."""
    return png_header(100, 100) + bytes(range(256)) * max(1, (size - 40) // 256)


def png_many_chunks(size=20 * MB):
    """A valid 1×1 PNG padded with as many small private chunks as ``size`` holds."""
    filler = png_chunk(b"prVt", b"x" * 4)
    pixels = png_chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00"))
    count = max(1, (size - 100) // len(filler))
    return png_header(1, 1) + filler * count + pixels + png_chunk(b"IEND", b"")


def jpeg_truncated(size=0):
    """Only the start of a JPEG header."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"


def jpeg_bomb(size=0):
    """A JPEG frame header declaring 65,500 × 65,500 pixels."""
    def segment(marker, data):
        return b"\xff" + marker + struct.pack(">H", len(data) + 2) + data
    return (b"\xff\xd8" + segment(b"\xe0", b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + segment(b"\xdb", b"\x00" + b"\x01" * 64)
            + segment(b"\xc0", b"\x08" + struct.pack(">HH", 65500, 65500) + b"\x01\x01\x11\x00")
            + segment(b"\xc4", b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00")
            + segment(b"\xda", b"\x01\x01\x00\x00\x3f\x00") + b"\x00" * 64 + b"\xff\xd9")


def jpeg_many_segments(size=20 * MB):
    """A JPEG header followed by as many comment segments as ``size`` holds, and no frame."""
    comment = b"\xff\xfe" + struct.pack(">H", 65535) + b"c" * 65533
    return b"\xff\xd8" + comment * max(1, (size - 4) // len(comment)) + b"\xff\xd9"


def jpeg_tiny_segments(size=20 * MB):
    """A JPEG header followed by as many empty application segments as ``size`` holds, then a frame."""
    real = jpeg_bomb()
    return real[:2] + b"\xff\xe5\x00\x02" * max(1, (size - len(real)) // 4) + real[2:].replace(
        struct.pack(">HH", 65500, 65500), struct.pack(">HH", 100, 100))


def tiff_empty_chain(size=20 * MB):
    """The report's TIFF: a chain of empty image directories, as many as ``size`` holds (3,495,252 at 20 MB)."""
    count = max(1, (size - 8) // 6)
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for index in range(count):
        following = 8 + 6 * (index + 1) if index < count - 1 else 0
        out += struct.pack("<HI", 0, following)
    return bytes(out)


def tiff_page_then_empty_chain(size=20 * MB):
    """One real page, then a chain of empty directories to the end of ``size``."""
    head = bytearray(tiff_pages(1))
    end = 8 + 2 + 8 * 12
    start = len(head)
    struct.pack_into("<I", head, end, start)
    count = max(1, (size - start) // 6)
    chain = bytearray()
    for index in range(count):
        chain += struct.pack("<HI", 0, start + 6 * (index + 1) if index < count - 1 else 0)
    return bytes(head + chain)


def tiff_loop(size=0):
    """A TIFF of one real page whose directory names itself as the next one."""
    data = bytearray(tiff_pages(1))
    end = 8 + 2 + 8 * 12
    struct.pack_into("<I", data, end, 8)
    return bytes(data)


def tiff_bomb(size=0):
    """A TIFF page declaring 100,000 × 100,000 pixels."""
    return tiff_pages(1, width=100_000, height=100_000)


def tiff_many_pages(size=20 * MB):
    """Real 1×1 pages, as many as ``size`` holds (about 170,000 at 20 MB)."""
    return tiff_pages(max(1, (size - 8) // 123))


def tiff_huge_directories(size=20 * MB):
    """Pages whose directories hold 65,535 entries each (mostly one unknown tag repeated)."""
    pages = max(1, size // (65535 * 12 + 200))
    return tiff_pages(pages, padding=65535 - 8)


def tiff_pages(pages, *, width=1, height=1, padding=0):
    """A little-endian TIFF of ``pages`` grey uncompressed images, one directory each."""
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for page in range(pages):
        start = len(out)
        entries = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 0),
                   (278, 4, height), (279, 4, 1)] + [(65000, 3, 0)] * padding
        pixel = start + 2 + len(entries) * 12 + 4
        entries[5] = (273, 4, pixel)
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            out += struct.pack("<HHI", tag, kind, 1) + (struct.pack("<HH", value, 0) if kind == 3
                                                        else struct.pack("<I", value))
        following = pixel + 1 if page < pages - 1 else 0
        out += struct.pack("<I", following) + bytes([0x80])
    return bytes(out)


# ----------------------------------------------------------------------------- honest scans


def normal_pdf(size=20 * MB):
    """A scanner's PDF of about ``size``: 10 pages, each a greyscale JPEG of noise (made by Pillow)."""
    out = io.BytesIO()
    pages = _noise_pages(size * 0.95, bytes_per_pixel=0.95)
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], quality=95, resolution=200)
    return out.getvalue()


def object_stream_pdf(pages):
    """A valid PDF 1.5 whose page tree and pages all live in one compressed object stream (no "/Type /Page" to see)."""
    bodies = [b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % (3 + i) for i in range(pages)), pages)]
    bodies += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    index, offset = [], 0
    for number, body in enumerate(bodies, start=2):
        index.append(b"%d %d" % (number, offset))
        offset += len(body) + 1
    index = b" ".join(index) + b"\n"
    content = index + b"".join(body + b"\n" for body in bodies)
    stream_number, xref_number = pages + 3, pages + 4
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    catalog = len(out)
    out += b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    packed = zlib.compress(content)
    stream = len(out)
    out += b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Length %d /Filter /FlateDecode >>\nstream\n" % (
        stream_number, len(bodies), len(index), len(packed)) + packed + b"\nendstream\nendobj\n"
    xref = len(out)
    rows = struct.pack(">BIH", 0, 0, 65535) + struct.pack(">BIH", 1, catalog, 0)
    rows += b"".join(struct.pack(">BIH", 2, stream_number, i) for i in range(len(bodies)))
    rows += struct.pack(">BIH", 1, stream, 0) + struct.pack(">BIH", 1, xref, 0)
    out += b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % (
        xref_number, xref_number + 1, len(rows))
    out += rows + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _noise_pages(size, *, bytes_per_pixel):
    from PIL import Image

    side = int((size / 10 / bytes_per_pixel) ** 0.5)
    return [Image.effect_noise((side, side), 64).convert("L") for _ in range(10)]


def normal_tiff(size=20 * MB):
    """A scanner's multi-page TIFF of about ``size``: 10 greyscale pages of noise (made by Pillow)."""
    pages = _noise_pages(size * 0.999, bytes_per_pixel=1)
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:])
    return out.getvalue()


HOSTILE = {
    "pdf: /Count tokens, no page (the report)": count_tokens,
    "pdf: declared /Count 999999999999": huge_declared_count,
    "pdf: %PDF- then HTML": html_after_header,
    "pdf: hundreds of thousands of pages": many_pages,
    "pdf: page tree nested deep": deep_tree,
    "pdf: page tree cycle": cyclic_tree,
    "pdf: page tree of shared kids (2**60)": shared_kids,
    "pdf: xref /Prev loop": xref_loop,
    "pdf: xref /Prev chain": xref_chain,
    "pdf: no xref, objects to rebuild": no_xref,
    "pdf: object stream inflating 1000-fold": object_stream_bomb,
    "pdf: object stream of a billion objects": huge_object_stream,
    "pdf: arrays nested deep": nested_arrays,
    "png: 100,000 × 100,000 pixels": png_bomb,
    "png: header then junk": png_junk,
    "png: many small chunks": png_many_chunks,
    "jpeg: truncated header": jpeg_truncated,
    "jpeg: 65,500 × 65,500 pixels": jpeg_bomb,
    "jpeg: comment segments, no frame": jpeg_many_segments,
    "jpeg: five million empty segments": jpeg_tiny_segments,
    "tiff: chain of empty directories (the report)": tiff_empty_chain,
    "tiff: a page, then a chain of empty directories": tiff_page_then_empty_chain,
    "tiff: directory loop": tiff_loop,
    "tiff: 100,000 × 100,000 pixels": tiff_bomb,
    "tiff: many real pages": tiff_many_pages,
    "tiff: directories of 65,535 entries": tiff_huge_directories,
}
