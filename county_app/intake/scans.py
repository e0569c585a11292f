"""Scanned materials: files checked by their content, stored once, attached to a checklist entry.

A file is accepted when its first bytes say PDF, JPEG, PNG or TIFF (the name
does not count) and it is at most MAX_SCAN_BYTES. It is stored in the data
folder as ``scans/ab/abcdef….pdf``, named by its SHA-256, so the same file
handed in twice is kept once. Pages are counted from the content: PDF page
objects, the TIFF directory chain, one for JPEG and PNG.

The clerk's scanner drops files into a folder (setting ``scan.folder``);
``attach_newest_scan`` takes the newest file there in one call.
"""
import hashlib
import os
import re
import struct
import tempfile
from pathlib import Path

from .. import settings
from ..db import db
from ..models import utcnow
from . import events
from .casejson import material_json
from .errors import Conflict, Invalid, NotFound
from .materials import check_state, checklist_entry
from .records import MaterialScan, Scan

MAX_SCAN_BYTES = 20 * 1024 * 1024
SCAN_DIR = "scans"
EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png", "tiff": ".tif"}
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_PDF_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", re.S)
_SKIPPED_FILES = re.compile(r"^(\.|~\$)|\.(tmp|part|crdownload)$", re.I)


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


def count_pages(kind, data):
    """Pages of a file of ``kind``; Invalid when a PDF or TIFF is broken."""
    if kind == "pdf":
        if b"%%EOF" not in data[-2048:]:
            raise _invalid("PDF 文件不完整（缺少文件结尾），请重新扫描或重新上传")
        pages = len(_PDF_PAGE.findall(data))
        if pages:
            return pages
        # pages inside compressed object streams: fall back on the page tree's /Count
        counts = [int(a or b) for a, b in _PDF_COUNT.findall(data)]
        return max(counts) if counts else 1
    if kind == "tiff":
        return _tiff_pages(data)
    return 1


def attach_scan(case_no, code, source, filename, *, actor, expected_version=None):
    """Attach a scanned file to material ``code`` of case ``case_no`` (status ``scanned``, trust C).

    ``source`` is bytes or a binary stream. Gives the checklist entry as JSON
    with ``case_version``. Invalid for a file that is not really a PDF or an
    image, an empty or a too big one; NotFound for a material not on the
    checklist; Conflict for the wrong case state or a stale version.
    """
    data = _read(source)
    kind = sniff(data)
    if kind is None:
        raise _invalid("文件不是 PDF、JPEG、PNG 或 TIFF（按文件内容识别，与扩展名无关），请上传扫描件")
    pages = count_pages(kind, data)
    sha = hashlib.sha256(data).hexdigest()
    filename = Path(str(filename or "")).name[:200]
    case = events.load_case(case_no, expected_version, actor=actor)  # refuse early, before a file is written
    check_state(case, checklist_entry(case, code), "scanned")
    relative = _store(data, sha, kind)  # written before the write lock is taken: other writers need not wait
    with db.atomic():
        # Again under the lock (a stat when the file is there): nightly maintenance may have removed an
        # unreferenced file of the same content in between, and it only deletes under this lock.
        _store(data, sha, kind)
        case = events.load_case(case_no, expected_version, actor=actor)
        material = checklist_entry(case, code)
        check_state(case, material, "scanned")
        scan = Scan.get_or_none(Scan.sha256 == sha) or Scan.create(
            sha256=sha, kind=kind, size=len(data), pages=pages, path=relative, stored_by=events.actor_name(actor))
        linked = MaterialScan.select().where((MaterialScan.material == material.id) & (MaterialScan.scan == scan.id))
        if not linked.exists():
            MaterialScan.create(material=material.id, scan=scan.id, filename=filename,
                                attached_by=events.actor_name(actor))
            material.status, material.trust_level = "scanned", "C"
            material.pages = sum(link.scan.pages for link in
                                 MaterialScan.select(MaterialScan, Scan).join(Scan)
                                 .where(MaterialScan.material == material.id))
            material.logged_at, material.logged_by = utcnow(), events.actor_name(actor)
            material.deferred_until = None
            material.save()
            events.transition(case, "scan", case.status, actor, code=code, sha256=sha, pages=pages,
                              filename=filename, trust_level="C")
    return {**material_json(material), "case_no": case.case_no, "case_version": case.version}


def newest_scan_in_folder(folder):
    """The most recently modified file in ``folder`` (hidden and partial downloads skipped), or None."""
    path = Path(folder)
    if not path.is_dir():
        raise NotFound(f"扫描文件夹 {folder} 不存在或无法访问，请检查扫描仪的保存位置（设置项 scan.folder）")
    files = [entry for entry in path.iterdir() if entry.is_file() and not _SKIPPED_FILES.search(entry.name)]
    return max(files, key=lambda entry: entry.stat().st_mtime, default=None)


def attach_newest_scan(case_no, code, *, actor, expected_version=None, folder=None):
    """Attach the newest file of the scan folder (``folder`` or setting ``scan.folder``) in one call."""
    folder = folder or settings.get("scan.folder")
    if not folder:
        raise Conflict("尚未设置扫描文件夹。请系统管理员运行：county-app config set scan.folder <扫描仪保存文件的文件夹>",
                       code="not_configured")
    newest = newest_scan_in_folder(folder)
    if newest is None:
        raise NotFound(f"扫描文件夹 {folder} 中还没有文件，请先扫描")
    with open(newest, "rb") as handle:
        return attach_scan(case_no, code, handle, newest.name, actor=actor, expected_version=expected_version)


def scan_path(scan):
    """The absolute path of a stored ``Scan``."""
    return _data_dir() / scan.path


# ----------------------------------------------------------------------------- internals


def _read(source):
    """At most MAX_SCAN_BYTES of ``source`` (bytes or a binary stream); Invalid if empty or bigger."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        chunks, size = [], 0
        while size <= MAX_SCAN_BYTES:
            chunk = source.read(min(1 << 20, MAX_SCAN_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    if len(data) > MAX_SCAN_BYTES:
        raise _invalid(f"文件超过 {MAX_SCAN_BYTES // (1024 * 1024)} MB，请降低扫描分辨率或分成几个文件上传")
    if not data:
        raise _invalid("文件是空的，请重新扫描")
    return data


def _tiff_pages(data):
    """Pages of a TIFF: the length of its chain of image file directories."""
    if len(data) < 8:
        raise _invalid("TIFF 文件已损坏（文件头不完整），请重新扫描")
    order = "<" if data[:2] == b"II" else ">"
    offset = struct.unpack_from(order + "I", data, 4)[0]
    pages, seen = 0, set()
    while offset:
        if offset in seen or offset + 2 > len(data):
            raise _invalid("TIFF 文件已损坏（目录指向文件之外），请重新扫描")
        seen.add(offset)
        entries = struct.unpack_from(order + "H", data, offset)[0]
        end = offset + 2 + 12 * entries
        if end + 4 > len(data):
            raise _invalid("TIFF 文件已损坏（目录不完整），请重新扫描")
        pages += 1
        offset = struct.unpack_from(order + "I", data, end)[0]
    if not pages:
        raise _invalid("TIFF 文件中没有图像，请重新扫描")
    return pages


def _data_dir():
    return Path(db.database).resolve().parent


def _store(data, sha, kind):
    """Write ``data`` under its hash unless already there; give the path relative to the data folder."""
    relative = f"{SCAN_DIR}/{sha[:2]}/{sha}{EXTENSIONS[kind]}"
    target = _data_dir() / relative
    if target.is_file() and target.stat().st_size == len(data):
        return relative
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return relative


def _invalid(message):
    return Invalid(message, [{"field": "scan", "message": message}])
