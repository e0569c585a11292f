"""What an uploaded scan is: its kind by content, its structure checked and its pages counted, within limits.

PDFs are read by pypdf, JPEG, PNG and TIFF by Pillow: well-kept parsers
with limits of their own (pypdf's page-tree depth, entry and decompression
limits; Pillow's decompression-bomb guard and TIFF tag-data limit), here set
for scans. Only the structure is read, never the pixels: a progressive
JPEG is decoded in passes, each costing a whole image's work, and one file
can declare thousands of passes.

What is checked:

- PDF: ends with ``%%EOF`` (a scanner still writing has not written it),
  pypdf finds its cross-reference table (or rebuilds it), its catalogue and
  its page tree; not encrypted; the tree neither declares nor holds more than
  MAX_PAGES pages, and holds at least one.
- JPEG: its markers up to the first scan (Pillow) and an end-of-image marker
  after it.
- PNG: every chunk's checksum up to IEND (Pillow's ``verify``).
- TIFF: every page's directory (Pillow), at most MAX_PAGES of them, each
  page's data inside the file.
- Every image or page at most ``Image.MAX_IMAGE_PIXELS`` pixels (Pillow's
  default, 89 million: an A3 page at 600 dpi is 70 million).

These checks are linear in the file's size but, being mostly pure Python,
not fast on a hostile file (bench/RESULTS.md), and nothing here can be
stopped half way: the server runs ``inspect`` in a child process with a
hard time limit (scanworker.py). It imports neither the database nor Flask.
"""
import io

MAX_PAGES = 2000  # per file; why this figure: README "扫描件"
_NAMES = {"pdf": "PDF ", "jpeg": "JPEG ", "png": "PNG ", "tiff": "TIFF "}
_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "tiff": "TIFF"}
_RESCAN = "请重新扫描后上传"


class Refused(Exception):
    """The file is not a scan we keep; ``message`` (Chinese) says why and what to do."""

    def __init__(self, message, detail=""):
        super().__init__(message)
        self.message = message
        self.detail = detail  # for the log: what the parser said


def sniff(data):
    """The kind of file ``data`` starts like ("pdf", "jpeg", "png", "tiff"), or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return "png"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def inspect(data):
    """``(kind, pages)`` of the scan ``data``; Refused when it is no real PDF or image, or too big."""
    kind = sniff(data)
    if kind is None:
        raise Refused("文件不是 PDF、JPEG、PNG 或 TIFF（按文件内容识别，与扩展名无关），请上传扫描件")
    try:
        pages = _pdf_pages(data) if kind == "pdf" else _image_pages(kind, data)
    except Refused:
        raise
    except Exception as exc:  # any failure of the parser (RecursionError too): not what it starts like
        raise Refused(f"{_NAMES[kind]}文件已损坏、不完整或结构异常，无法读取；{_RESCAN}",
                      detail=f"{type(exc).__name__}: {exc}"[:300]) from None
    if pages > MAX_PAGES:
        raise _too_many(kind, pages)
    return kind, pages



def _too_many(kind, pages=None, declared=False):
    """Refused for a file of more than MAX_PAGES pages (``pages`` when known)."""
    said = f"的页面目录声明有 {pages} 页，" if declared else f"有 {pages} 页，" if pages else "的页数"
    return Refused(f"{_NAMES[kind]}文件{said}超过每个文件 {MAX_PAGES} 页的上限；"
                   f"请检查是否选错了文件，正常的材料请分成几个文件扫描上传")


def _pdf_pages(data):
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError

    if b"%%EOF" not in data[-2048:]:
        raise Refused("PDF 文件不完整（缺少文件结尾），可能扫描仪还没有保存完；请稍等片刻或重新扫描后上传")
    # A page tree of MAX_PAGES pages has fewer nodes than this; a tree of shared kids stops here, not after
    # 2**60 pages. (apply_configuration holds for this thread only.)
    with apply_configuration(page_tree_maximum_entries=2 * MAX_PAGES + 100):
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise Refused("PDF 文件设置了密码或加密，无法查看；请取消加密或重新扫描后上传")
            declared = reader.root_object["/Pages"].get_object().get("/Count")
            if isinstance(declared, int) and declared > MAX_PAGES:
                raise _too_many("pdf", declared, declared=True)
            pages = len(reader.pages)
        except LimitReachedError as exc:  # pypdf's own limits: pages, tree depth, arrays, inflated data
            raise Refused(f"PDF 文件的页数或结构超出了检查的限度（每个文件至多 {MAX_PAGES} 页）；"
                          f"请检查是否选错了文件，正常的材料请分成几个文件扫描上传", detail=str(exc)) from None
    if not pages:
        raise Refused(f"PDF 文件中没有页面，{_RESCAN}")
    return pages


def _image_pages(kind, data):
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[kind]])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        # The guard warns above MAX_IMAGE_PIXELS (the checker process turns that warning into an
        # error, as pytest does) and raises above twice that: both mean too big. Where the warning
        # is only shown, the size check below refuses the image all the same.
        raise _too_large(kind) from None
    with image:
        pages = 0
        while True:
            width, height = image.size
            if width * height > Image.MAX_IMAGE_PIXELS:
                raise _too_large(kind, width, height)
            if kind == "tiff":
                _tiff_data_inside(image, len(data))
            pages += 1
            if kind != "tiff":
                break
            if pages > MAX_PAGES:
                raise _too_many(kind)
            try:
                image.seek(pages)
            except EOFError:
                break
        if kind == "png":
            image.verify()  # every chunk's checksum, up to IEND
        elif kind == "jpeg" and data.find(b"\xff\xd9", image.tile[0][2]) < 0:
            raise Refused(f"JPEG 文件不完整（缺少图像结尾），可能扫描仪还没有保存完；请稍等片刻或{_RESCAN}")
    return pages


def _tiff_data_inside(image, size):
    """Refused unless every strip or tile of the current TIFF page lies inside the file."""
    tags = image.tag_v2
    offsets, counts = (273, 279) if 273 in tags else (324, 325)
    if offsets not in tags or counts not in tags or len(tags[offsets]) != len(tags[counts]):
        raise Refused(f"TIFF 文件第 {image.tell() + 1} 页缺少图像数据，{_RESCAN}")
    if any(offset + count > size for offset, count in zip(tags[offsets], tags[counts])):
        raise Refused(f"TIFF 文件第 {image.tell() + 1} 页的图像数据超出了文件（文件不完整），{_RESCAN}")


def _too_large(kind, width=None, height=None):
    size = f"（{width} × {height} 像素）" if width else ""
    return Refused(f"{_NAMES[kind]}图像过大{size}，不像正常的扫描件；请用 600 dpi 以下的分辨率重新扫描后上传")
