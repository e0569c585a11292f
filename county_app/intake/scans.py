"""Scanned materials: files checked by their content, stored once, attached to a checklist entry.

A file is accepted when it is at most MAX_SCAN_BYTES and really is a PDF,
JPEG, PNG or TIFF of at most scanfile.MAX_PAGES pages (its content decides,
not its name): scanfile.py says what is checked, scanworker.py runs that
check in a child process with a hard time limit. It is stored in the data
folder as ``scans/ab/abcdef….pdf``, named by its SHA-256, so the same file
handed in twice is kept once.

The clerk's scanner drops files into a folder (setting ``scan.folder``);
``attach_newest_scan`` takes the newest file there in one call.
"""
import hashlib
import logging
import os
import re
import stat
import tempfile
from pathlib import Path
from types import SimpleNamespace

from .. import settings
from ..db import db
from ..models import utcnow
from . import events, scanworker
from .casejson import material_json
from .checks import check_permission
from .errors import Conflict, Invalid, NotFound
from .materials import check_state, checklist_entry
from ..prepared import Prepared
from .records import CaseMaterial, MaterialScan, Scan
from .scanfile import Refused, sniff

MAX_SCAN_BYTES = 20 * 1024 * 1024
SCAN_DIR = "scans"
EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png", "tiff": ".tif"}
_SKIPPED_FILES = re.compile(r"^(\.|~\$)|\.(tmp|part|crdownload)$", re.I)
log = logging.getLogger(__name__)


def inspect(data):
    """``(kind, pages)`` of the uploaded ``data``; Invalid (field ``scan``) when it is not a scan we keep."""
    if sniff(data) is None:  # plainly not a scan: no need to ask the checker process
        raise _invalid("文件不是 PDF、JPEG、PNG 或 TIFF（按文件内容识别，与扩展名无关），请上传扫描件")
    try:
        return scanworker.check(data)
    except Refused as exc:
        log.info("scan refused: %s (%s)", exc.message, exc.detail or "-")
        raise _invalid(exc.message) from None


def attach_scan(case_no, code, source, filename, *, actor, expected_version=None, request_key=None):
    """Attach a scanned file to material ``code`` of case ``case_no`` (status ``scanned``, trust C).

    ``source`` is bytes or a binary stream. Gives the checklist entry as JSON
    with ``case_version``. Invalid for a file that is not really a PDF or an
    image, an empty or a too big one, one of too many pages or one whose
    check overran; NotFound for a material not on the checklist; Conflict
    for the wrong case state or a stale version; scanworker.Busy when other
    uploads keep the check busy. A refused attach leaves no file behind.
    """
    check_permission(actor, "cases.handle")
    # The case first (cheap): an unknown case or a wrong state is refused before the file is read or checked.
    case = events.load_case(case_no, expected_version, actor=actor, request_key=request_key)
    if events.repeated(case, ("scan",), code=code):  # the file was stored the first time: not read again
        return _answer(case, checklist_entry(case, code))
    check_state(case, checklist_entry(case, code), "scanned")
    data = _read(source)
    kind, pages = inspect(data)
    sha = hashlib.sha256(data).hexdigest()
    filename = Path(str(filename or "")).name[:200]
    relative = _store(data, sha, kind)  # written before the write lock is taken: other writers need not wait
    try:
        with db.atomic():
            # Again under the lock (a stat when the file is there): nightly maintenance may have removed an
            # unreferenced file of the same content in between, and it only deletes under this lock.
            _store(data, sha, kind)
            case, material = _link(case_no, code, expected_version, actor, request_key, filename=filename, sha=sha,
                                   kind=kind, size=len(data), pages=pages, path=relative)
    except BaseException:
        _remove_unless_named(relative, sha)  # else a refused attach leaves a file no case names
        raise
    return _answer(case, material)


def _answer(case, material):
    return {**material_json(material), "case_no": case.case_no, "case_version": case.version}


def _link(case_no, code, expected_version, actor, request_key, *, filename, sha, **scan):
    """Inside the write transaction: the Scan row (once per content) and its link to the checklist entry."""
    case = events.load_case(case_no, expected_version, actor=actor, request_key=request_key)
    material = checklist_entry(case, code)
    if events.repeated(case, ("scan",), code=code):  # its twin, sent at the same moment, was first
        return case, material
    check_state(case, material, "scanned")
    row = Scan.get_or_none(Scan.sha256 == sha) or Scan.create(sha256=sha, stored_by=events.actor_name(actor),
                                                                **scan)
    linked = MaterialScan.select().where((MaterialScan.material == material.id) & (MaterialScan.scan == row.id))
    if not linked.exists():
        MaterialScan.create(material=material.id, scan=row.id, filename=filename, attached_by=events.actor_name(actor))
        material.status, material.trust_level = "scanned", "C"
        material.pages = sum(link.scan.pages for link in
                             MaterialScan.select(MaterialScan, Scan).join(Scan)
                             .where(MaterialScan.material == material.id))
        material.logged_at, material.logged_by = utcnow(), events.actor_name(actor)
        material.deferred_until, material.deferred_complete = None, True
        material.save()
        events.transition(case, "scan", case.status, actor, code=code, sha256=sha, pages=scan["pages"],
                          filename=filename, trust_level="C")
    return case, material


def newest_scan_in_folder(folder):
    """The most recently modified file in ``folder`` (hidden and partial downloads skipped), or None."""
    path = Path(folder)
    if not path.is_dir():
        raise NotFound(f"扫描文件夹 {folder} 不存在或无法访问，请检查扫描仪的保存位置（设置项 scan.folder）")
    newest, newest_time = None, None
    for entry in path.iterdir():
        if _SKIPPED_FILES.search(entry.name):
            continue
        try:  # the scanner's software may move or delete a file meanwhile
            status = entry.stat()
        except OSError:
            continue
        if stat.S_ISREG(status.st_mode) and (newest_time is None or status.st_mtime > newest_time):
            newest, newest_time = entry, status.st_mtime
    return newest


def attach_newest_scan(case_no, code, *, actor, expected_version=None, folder=None, request_key=None):
    """Attach the newest file of the scan folder (``folder`` or setting ``scan.folder``) in one call."""
    folder = folder or settings.get("scan.folder")
    if not folder:
        raise Conflict("尚未设置扫描文件夹，请联系系统管理员在“系统设置”页面设置（设置项 scan.folder：扫描仪保存文件的文件夹）",
                       code="not_configured")
    newest = newest_scan_in_folder(folder)
    if newest is None:
        raise NotFound(f"扫描文件夹 {folder} 中还没有文件，请先扫描")
    try:
        handle = open(newest, "rb")
    except OSError:  # moved meanwhile, or (Windows) still held open by the scanner's software
        raise Conflict(f"扫描文件 {newest.name} 正在写入或已被移走，请稍候再试", code="scan_busy") from None
    with handle:
        return attach_scan(case_no, code, handle, newest.name, actor=actor, expected_version=expected_version,
                           request_key=request_key)


MIMETYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png", "tiff": "image/tiff"}


def case_scan(case_no, sha256, *, actor):
    """A stored scan attached to case ``case_no``, to be opened: ``path``, ``mimetype`` and ``filename``.

    NotFound, in the words of an unknown case, when ``actor`` may not see the
    case (``events.load_case``); NotFound when the case holds no such scan —
    a file is reached only through a case that holds it.
    """
    case = events.load_case(case_no, actor=actor)
    link = _CASE_SCAN.first(case.id, str(sha256 or "").lower())
    if link is None:
        raise NotFound(f"办件 {case.case_no} 没有这个扫描件")
    path = scan_path(link.scan)
    if not path.is_file():
        if settings.get("node.role") == "hub":  # the file follows its case (sync/scanupload.py)
            raise NotFound("这个扫描件还没有从乡镇传到县级汇聚中心，乡镇下次同步后即可查看")
        raise NotFound(f"扫描件文件已不在数据文件夹中（{link.scan.path}），请重新扫描上传")
    extension = EXTENSIONS.get(link.scan.kind, "")
    name = link.filename or link.scan.sha256[:12]
    if not name.lower().endswith(extension):
        name += extension
    return SimpleNamespace(path=path, mimetype=MIMETYPES.get(link.scan.kind, "application/octet-stream"), filename=name)


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


def _data_dir():
    return db.data_dir


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


def _remove_unless_named(relative, sha):
    """Delete the stored file ``relative`` unless a Scan row names it, under the write lock as maintenance does.

    Called when the transaction that was to name it failed. A request of
    another case holding the same content either committed its row (then the
    file stays) or has yet to take the lock, and then writes the file again
    under it before naming it: removing the file here never loses one.
    """
    try:
        with db.atomic():
            if not Scan.select().where((Scan.sha256 == sha) & (Scan.path == relative)).exists():
                (_data_dir() / relative).unlink(missing_ok=True)
    except Exception:
        log.exception("could not remove %s, which no scan names; nightly maintenance will", relative)


def _invalid(message):
    return Invalid(message, [{"field": "scan", "message": message}])


_CASE_SCAN = Prepared(lambda case_id, sha256: MaterialScan.select(MaterialScan, Scan).join(Scan)
                      .join_from(MaterialScan, CaseMaterial)
                      .where((CaseMaterial.case == case_id) & (Scan.sha256 == sha256)).limit(1))
