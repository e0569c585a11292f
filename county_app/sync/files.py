"""Offline files: the same exchange as one signed file, carried on a USB stick (docs/sync.md, Offline files).

``export_file`` writes, at a township, its outbox after the acknowledged mark
and the scans not yet at the hub; at the hub, for one township, that
township's downstream changes after the last mark it reported, what the hub
applied of it, the scans it still awaits and the catalogue in force.
``import_file`` applies such a file at the other end through the functions
of the network exchange (``hub.apply_push``, ``client.apply_down``), so a
file imported twice is applied once.

A file is ``envelope.MAGIC``, one line of header JSON (from, to, kind, created, size
and SHA-256 of the payload), one line of HMAC-SHA256 over the magic and the
header with the node's secret, then the payload: a zip whose members are all
stored uncompressed (``manifest.json``, ``batches/NNNNNN.json.gz`` in the
network's bounded gzip form, ``scans/<sha256>``, ``catalogue.xlsx``, a
township's ``reconcile.json``), so no member can inflate. The addressee, the sender and the signature are checked
first, then the payload's size and SHA-256 by streaming it; only then is the
zip opened, each member read within its own limit.
"""
import io
import json
import logging
import os
import shutil
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import settings
from ..catalogue import store
from ..db import db
from ..intake.scans import MAX_SCAN_BYTES
from ..digests import file_sha256
from ..models import CatalogueVersion, utcnow
from ..operations.instance import DataFolderBusy, DataFolderLock
from ..hub import reconciliation
from . import batches, client, envelope, hub, hubkey, nodes, outbox, reconcile, scanstore, scanupload
from .envelope import FileRefused
from .errors import SyncBusy, SyncRefused
from .records import SyncNode, SyncScan

envelope.MAGIC = b"COUNTY-APP SYNC FILE 1\n"
MAX_CATALOGUE = 20 * 1024 * 1024
MAX_WANTED = 10_000  # scans listed as still awaited in a hub's file
RECONCILE_MEMBER = "reconcile.json"  # a township's figures of its last days (reconcile.for_file)
MAX_RECONCILE = 16 * 1024 * 1024  # 31 busy days are a few hundred KB
envelope.PIECE = 1024 * 1024
log = logging.getLogger("county_app.sync")


@dataclass
class FileReport:
    path: Path = None
    changes: int = 0  # changes written (export) or applied (import)
    batches: int = 0
    scans: int = 0
    conflicts: int = 0
    acknowledged: int = 0  # a township's changes the hub's file says it applied
    catalogue: str = ""
    skipped: list = field(default_factory=list)  # scans left out (lost or damaged here)
    reconcile: str = ""  # at the hub, a township's file reconciled (reconcile.described)


# ----------------------------------------------------------------------------- export


def export_file(data_dir, folder, node=None):
    """Write this node's file into ``folder``; a FileReport. At the hub ``node`` names the township."""
    with _township_lock(data_dir):
        return _export(data_dir, Path(folder), node)


def _export(data_dir, folder, node):
    if not folder.is_dir():
        raise FileRefused(f"文件夹 {folder} 不存在（请先插好U盘，写明其中的文件夹）")
    if nodes.is_hub():
        if not node:
            raise FileRefused("在县级汇聚中心导出时请用 --node 写明发给哪个乡镇节点")
        town = envelope.known_node(data_dir, node)
        me, to, secret = settings.get("county.code"), town.code, hubkey.unseal(data_dir, town.secret)
    else:
        if node:
            raise FileRefused("--node 只在县级汇聚中心使用；乡镇导出的文件总是发给县级汇聚中心")
        me, secret = envelope.township_identity()
        to = me[:6]
    report = FileReport()
    kind = "down" if nodes.is_hub() else "up"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = folder / f"sync-{me}-to-{to}-{stamp}.sync"
    payload = folder / f".{target.name}.zip.part"
    try:
        with zipfile.ZipFile(payload, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            manifest = _write_down(archive, to, report) if kind == "down" else _write_up(archive, me, report)
            archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False))
        size, digest = payload.stat().st_size, file_sha256(payload)
        header = envelope.header_line(me, to, kind, utcnow().isoformat(), size, digest)
        partial = target.with_name(target.name + ".part")
        with open(partial, "wb") as out, open(payload, "rb") as source:
            out.write(envelope.MAGIC + header + envelope.signature(secret, header).encode("ascii") + b"\n")
            shutil.copyfileobj(source, out, envelope.PIECE)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    finally:
        payload.unlink(missing_ok=True)
        target.with_name(target.name + ".part").unlink(missing_ok=True)
    report.path = target
    return report


def _write_up(archive, me, report):
    names, after, last = [], outbox.mark("up.acked"), outbox.mark("up.acked")
    while rows := outbox.batch_after(outbox.UP, after):
        names.append(_write_batch(archive, len(names), me, rows))
        after = last = rows[-1].seq
        report.changes += len(rows)
    sent, after_seq = {}, -1  # a dict: in order, each file once
    while rows := scanupload.waiting(after_seq, last):
        for row in rows:
            after_seq = row.seq
            path = scanupload.local_file(row.sha256)
            if path is None:
                report.skipped.append(row.sha256[:12])
            elif row.sha256 not in sent:
                archive.write(path, f"scans/{row.sha256}")
                sent[row.sha256] = True
    report.batches, report.scans = len(names), len(sent)
    archive.writestr(RECONCILE_MEMBER, json.dumps(reconcile.for_file(me), ensure_ascii=False))
    return {"batches": names, "scans": list(sent), "down_applied": outbox.mark("down.applied"),
            "catalogue_applied": outbox.mark("catalogue.applied"), "reconcile": RECONCILE_MEMBER}


def _write_down(archive, code, report):
    names, after = [], 0
    while rows := outbox.batch_after(code, after):
        names.append(_write_batch(archive, len(names), code, rows))
        after = rows[-1].seq
        report.changes += len(rows)
    report.batches = len(names)
    node = SyncNode.get(SyncNode.code == code)
    wanted = [row.sha256 for row in SyncScan.select(SyncScan.sha256).where(SyncScan.node == code)
              .order_by(SyncScan.id).limit(MAX_WANTED)]
    manifest = {"batches": names, "applied_through": node.applied_through, "scans_wanted": wanted}
    current = CatalogueVersion.in_force()
    if current is not None:
        workbook = io.BytesIO()
        store.export_workbook(workbook)
        archive.writestr("catalogue.xlsx", workbook.getvalue())
        manifest["catalogue"] = {"id": current.id, "version": current.version}
    return manifest


def _write_batch(archive, index, node, rows):
    name = f"batches/{index + 1:06d}.json.gz"
    archive.writestr(name, batches.encode_rows(node, rows))  # the network's batch, as outbox.batch_after cut it
    return name


# ----------------------------------------------------------------------------- import


def import_file(data_dir, path):
    """Apply the file at ``path`` here; a FileReport. FileRefused (nothing applied) when it may not be."""
    try:
        with _township_lock(data_dir), open(path, "rb") as handle:
            header, archive = envelope.opened(data_dir, handle)
            manifest = envelope.manifest(archive)
            if header["kind"] == "up":
                return _import_up(archive, manifest, header["from"])
            return _import_down(archive, manifest, Path(data_dir))
    except FileNotFoundError:
        raise FileRefused(f"找不到文件 {path}") from None
    except IsADirectoryError:
        raise FileRefused(f"{path} 是文件夹，请写明要导入的 .sync 文件") from None
    except FileRefused as exc:
        if nodes.is_hub():
            log.warning("sync file refused: %s: %s", Path(path).name, exc)
        raise


def _batches(archive, manifest, node):
    """Each batch of the file, decoded and checked, in order: ``(first, last, changes)``."""
    for name in manifest["batches"]:
        try:
            yield batches.changes_of(batches.decode(envelope.member(archive, name, batches.MAX_BODY)), node)
        except SyncRefused as exc:
            raise FileRefused(f"同步文件中的 {name}：{exc.message}") from None


def _import_up(archive, manifest, code):
    node = SyncNode.get(SyncNode.code == code)
    down_applied = manifest.get("down_applied", 0)
    if not isinstance(down_applied, int) or isinstance(down_applied, bool) or down_applied > node.down_written:
        raise FileRefused(f"文件中乡镇记录已收到汇聚中心第 {down_applied} 条，而汇聚中心只发出过 {node.down_written} 条："
                          "汇聚中心的数据可能从旧备份恢复，请联系县级管理员；未做任何更改")
    report = FileReport()
    try:
        for first, last, changes in _batches(archive, manifest, code):
            answer = hub.apply_push(code, first, last, changes)
            report.changes += answer["applied"]
            report.conflicts += answer["conflicts"]
            report.batches += 1
        for sha in manifest.get("scans", []):
            with archive.open(_scan_member(archive, sha)) as source:
                report.scans += scanstore.place(code, sha, source)
    except SyncRefused as exc:
        raise FileRefused(exc.message) from None
    with db.atomic():
        outbox.acknowledged(code, down_applied)
    if manifest.get("reconcile") == RECONCILE_MEMBER:  # after the changes: the two sides now hold the same
        report.reconcile = _reconciled(code, envelope.member(archive, RECONCILE_MEMBER, MAX_RECONCILE))
    return report


def _reconciled(code, member):
    """The file's reconciliation in words; a failure here leaves what the file applied applied."""
    try:
        return reconcile.described(reconciliation.from_file(code, json.loads(member)))
    except (SyncRefused, ValueError) as exc:
        return f"核对未完成：{getattr(exc, 'message', exc)}"


def _scan_member(archive, sha):
    try:
        info = archive.getinfo(f"scans/{sha}")
    except KeyError:
        raise FileRefused(f"同步文件缺少扫描件 {sha[:12]}…") from None
    if info.file_size > MAX_SCAN_BYTES:
        raise FileRefused(f"同步文件中的扫描件 {sha[:12]}… 超过 {MAX_SCAN_BYTES // (1024 * 1024)} MB")
    return info


def _import_down(archive, manifest, data_dir):
    node, _secret = envelope.township_identity()
    through, wanted = manifest.get("applied_through"), set(manifest.get("scans_wanted", []))
    if not isinstance(through, int) or isinstance(through, bool) or through > outbox.mark("up.written"):
        raise FileRefused(f"文件中县级汇聚中心记录已收到本机第 {through} 条变更，而本机只写过 {outbox.mark('up.written')} 条："
                          "本机数据可能是从旧备份恢复的，请联系县级管理员；未做任何更改")
    report, run = FileReport(), client.RunReport()
    catalogue = manifest.get("catalogue")
    if isinstance(catalogue, dict) and isinstance(catalogue.get("id"), int) \
            and catalogue["id"] > outbox.mark("catalogue.applied"):
        workbook = data_dir / f".sync-import-{os.getpid()}.xlsx"
        try:
            workbook.write_bytes(envelope.member(archive, "catalogue.xlsx", MAX_CATALOGUE))
            client.apply_catalogue_file(workbook, catalogue["id"], str(catalogue.get("version", "")), run)
        finally:
            workbook.unlink(missing_ok=True)
    for _first, last, changes in _batches(archive, manifest, node):
        client.apply_down(node, last, changes, run)
        report.batches += 1
    if through > outbox.mark("up.acked"):  # an older file from the hub acknowledges less: nothing to take
        report.acknowledged = client.take_acknowledgement(through)
    if len(wanted) < MAX_WANTED:  # the whole list: every other scan of an acknowledged change is at the hub
        with db.atomic():
            (SyncScan.delete().where((SyncScan.node == outbox.UP) & (SyncScan.seq <= outbox.mark("up.acked"))
                                     & SyncScan.sha256.not_in(wanted or [""])).execute())
    report.changes, report.conflicts, report.catalogue = run.pulled, run.conflicts, run.catalogue
    return report


# ----------------------------------------------------------------------------- shared


@contextmanager
def _township_lock(data_dir):
    """At a township, the sync lock of ``client.run_once``: a file is not read or applied during a run."""
    if nodes.is_hub():
        yield
        return
    lock = DataFolderLock(data_dir, client.LOCK_FILENAME, busy="同步正在进行（另一次同步尚未结束），请稍后再试")
    try:
        lock.acquire()
    except DataFolderBusy as exc:
        raise SyncBusy(str(exc)) from None
    try:
        yield
    finally:
        lock.release()


