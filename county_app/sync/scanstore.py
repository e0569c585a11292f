"""The hub's side of scans travelling with their case: which files it awaits, partial uploads, the store.

A township's change names its case's scans (``snapshot``); applying it at
the hub creates the ``Scan`` rows and their links, and ``expect`` notes each
file the hub does not hold yet (``SyncScan`` of that township). The file then
arrives in chunks (``append``, docs/sync.md, Scans) or inside an offline file
(``place``): a partial upload is ``<data>/sync_incoming/<node>/<sha256>.part``,
its size the stored offset, and only a file whose SHA-256 is its name moves
into the scan store (``scans/ab/<sha256>.<ext>``, the path of its Scan row).
A file no change of that township named is refused: a node cannot fill the
hub's disk with files no case holds. Nothing is ever read whole: files are
hashed and copied in 1 MB pieces. The nightly maintenance removes partial
uploads no longer awaited, and those untouched for 30 days
(``drop_stale_partials``).
"""
import os
import re
import shutil
import threading
from pathlib import Path

from ..db import db
from ..digests import file_sha256
from ..intake.records import Scan
from ..intake.scans import EXTENSIONS, SCAN_DIR
from .errors import SyncRefused
from .records import SyncScan

INCOMING_DIR = "sync_incoming"
CHUNK = 1024 * 1024
PARTIAL_GRACE = 3600  # seconds: a younger partial upload may be written to right now
PARTIAL_KEPT = 30 * 86400  # seconds: an awaited upload untouched this long starts again from 0
_SHA256 = re.compile(r"[0-9a-f]{64}")
_appending = threading.Lock()  # one serve per data folder (operations/instance.py): a lock in the process suffices


def scan_row(sha256, kind, size, pages, stored_by):
    """The hub's Scan row of a file a township's change names (created with its store path if new)."""
    row = Scan.get_or_none(Scan.sha256 == sha256)
    if row is None:
        row = Scan.create(sha256=sha256, kind=kind, size=size, pages=pages, stored_by=stored_by,
                          path=f"{SCAN_DIR}/{sha256[:2]}/{sha256}{EXTENSIONS[kind]}")
    return row


def expect(node, scan):
    """Note that ``node`` is to send the file of ``scan`` unless the store holds it (inside the batch's transaction)."""
    if not _stored(scan):
        SyncScan.insert(node=node, sha256=scan.sha256).on_conflict_ignore().execute()


def offset(node, sha256):
    """``(stored offset, size)`` of a scan ``node`` sends; SyncRefused 404 when no change of ``node`` named it."""
    scan = _awaited(node, sha256)
    if _stored(scan):
        return scan.size, scan.size
    partial = _partial(node, sha256)
    return (partial.stat().st_size if partial.is_file() else 0), scan.size


def append(node, sha256, at, chunk):
    """Append ``chunk`` at offset ``at``; the new ``(offset, size)``. The last chunk checks and stores the file.

    SyncRefused 409 (with the stored offset) unless ``at`` is the stored
    offset, 400 when the chunk goes past the file's size, 422 when the
    whole file's SHA-256 is not its name (the partial upload is discarded).
    """
    with _appending:
        stored, size = offset(node, sha256)
        if at != stored:
            raise SyncRefused(409, "offset", f"扫描件 {sha256[:12]}… 在汇聚中心已存到第 {stored} 字节，"
                                             f"请从那里续传（本次请求从第 {at} 字节开始）", offset=stored, size=size)
        if not chunk or at + len(chunk) > size:
            raise SyncRefused(400, "malformed", f"扫描件 {sha256[:12]}… 共 {size} 字节：这一段（从第 {at} 字节起 "
                                                f"{len(chunk)} 字节）为空或超出文件末尾，已拒绝")
        partial = _partial(node, sha256)
        partial.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "ab") as out:
            out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if at + len(chunk) == size:
            _complete(node, sha256, partial)
        return at + len(chunk), size


def place(node, sha256, source):
    """Store the file of ``sha256`` read from the binary stream ``source`` (an offline file's member).

    True when stored now, False when the store already held it; SyncRefused
    404 when no change of ``node`` named it, 422 when its content is not its name.
    """
    scan = _awaited(node, sha256)
    if _stored(scan):
        return False
    partial = _partial(node, sha256).with_suffix(".file")
    partial.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "wb") as out:
        shutil.copyfileobj(source, out, CHUNK)
    _complete(node, sha256, partial)
    return True


def _complete(node, sha256, partial):
    scan = Scan.get(Scan.sha256 == sha256)
    if partial.stat().st_size != scan.size or file_sha256(partial) != sha256:
        partial.unlink(missing_ok=True)  # the refusal is logged by whoever asked (api/sync.py, files.py)
        raise SyncRefused(422, "bad_checksum", f"扫描件 {sha256[:12]}… 传完后校验不符（SHA-256 与文件名不一致），"
                                               "已丢弃这次上传；下次同步会从头重传", offset=0)
    target = db.data_dir / scan.path
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    with db.atomic():
        SyncScan.delete().where(SyncScan.sha256 == sha256).execute()


def _awaited(node, sha256):
    scan = Scan.get_or_none(Scan.sha256 == sha256)
    named = scan is not None and (_stored(scan) or SyncScan.select().where(
        (SyncScan.node == node) & (SyncScan.sha256 == sha256)).exists())
    if not named:
        raise SyncRefused(404, "unknown_scan", f"汇聚中心没有等待节点 {node} 上传的扫描件 {sha256[:12]}…"
                                               "（应先上传提到它的办件变更）")
    return scan


def _stored(scan):
    path = db.data_dir / scan.path
    return path.is_file() and path.stat().st_size == scan.size


def _partial(node, sha256):
    return Path(db.data_dir) / INCOMING_DIR / node / f"{sha256}.part"


def drop_stale_partials(data_dir, now):
    """Remove partial uploads under ``sync_incoming/`` older than PARTIAL_GRACE whose scan that node no
    longer sends (stored meanwhile, its node revoked, a change undone), or untouched for PARTIAL_KEPT;
    ``(files removed, bytes freed)``. Only the names ``append`` and ``place`` write are touched."""
    root, removed, freed = Path(data_dir) / INCOMING_DIR, 0, 0
    if not root.is_dir() or root.is_symlink():
        return 0, 0
    for folder in root.iterdir():
        if folder.is_symlink() or not folder.is_dir():
            continue
        for path in folder.iterdir():
            sha256, dot, suffix = path.name.partition(".")
            if not (dot and suffix in ("part", "file") and _SHA256.fullmatch(sha256)) or path.is_symlink():
                continue
            with _appending:  # not while a chunk is being appended to it
                try:
                    info = path.stat()
                except FileNotFoundError:
                    continue
                age = now - info.st_mtime
                awaited = SyncScan.select().where((SyncScan.node == folder.name)
                                                  & (SyncScan.sha256 == sha256)).exists()
                if age < PARTIAL_GRACE or (awaited and age < PARTIAL_KEPT):
                    continue
                path.unlink(missing_ok=True)
            removed, freed = removed + 1, freed + info.st_size
    return removed, freed
