"""A township's run: push everything, then pull everything (docs/sync.md, One exchange).

``run_once`` is what ``sync run``, the scheduled job and the 立即同步 button
call. It holds the data folder's sync lock for the run (a second run is
refused at once with 「同步正在进行」), records the run in ``SyncRun`` and
returns its counts; an unreachable or refusing hub ends the run with a
message saying what to do, and what was acknowledged before stays so.
Each batch is its own transaction on each side, so a run killed at any
moment resumes at the last batch both sides committed.
"""
import base64
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..catalogue import store
from ..db import db
from ..models import utcnow
from ..operations.instance import DataFolderBusy, DataFolderLock
from . import batches, outbox, reconcile, scanupload, snapshot
from .apply import apply_batch
from .errors import SyncBusy, SyncFailed
from .hub import PULL_PATH, PUSH_PATH
from .records import SyncRun
from .transport import Hub

LOCK_FILENAME = "sync.lock"
MAX_ROUNDS = 100_000  # batches in one run: a loop that never ends is a bug, not a backlog


@dataclass
class RunReport:
    pushed: int = 0
    pulled: int = 0
    catalogue: str = ""
    conflicts: int = 0
    scans: int = 0  # scan files the hub now holds whole
    scan_bytes: int = 0  # of them, sent in this run
    error: str = ""
    error_kind: str = ""  # advice.KINDS
    to_push: int = 0  # changes waiting to go when the run started
    stage: str = ""  # "push", "pull", "reconcile", "done": how far a run in progress is
    reconcile: str = ""  # the reconciliation after a complete exchange, in words (never the run's error)


def run_once(data_dir, actor, report=None):
    """One exchange with the hub for the data folder ``data_dir`` (its database bound); a RunReport.

    SyncBusy when another run holds the folder; a failed run is recorded and
    reported in ``RunReport.error``. A ``report`` passed in is filled as the
    run goes, batch by batch, so that another thread can show its progress.
    """
    lock = DataFolderLock(data_dir, LOCK_FILENAME, busy="同步正在进行（另一次同步尚未结束），请稍后再试")
    try:
        lock.acquire()
    except DataFolderBusy as exc:
        raise SyncBusy(str(exc)) from None
    try:
        with db.connection_context():
            report = report if report is not None else RunReport()
            with db.atomic():
                run = SyncRun.create(actor=str(actor))
            try:
                hub = Hub.configured()
                report.stage, report.to_push = "push", outbox.backlog()
                _push_all(hub, report)
                report.stage = "scans"
                scanupload.send_all(hub, report)
                report.stage = "pull"
                _pull_all(hub, Path(data_dir), report)
                report.stage = "reconcile"
                report.reconcile = reconcile.after_run(hub)
            except SyncFailed as exc:
                report.error, report.error_kind = str(exc), exc.kind
            with db.atomic():
                SyncRun.update(ended_at=utcnow(), pushed=report.pushed, pulled=report.pulled,
                               catalogue=report.catalogue, conflicts=report.conflicts,
                               error=report.error, error_kind=report.error_kind,
                               reconcile=report.reconcile, scans=report.scans,
                               scan_bytes=report.scan_bytes).where(SyncRun.id == run.id).execute()
            report.stage = "done"
            return report
    finally:
        lock.release()


def _push_all(hub, report):
    """Send the outbox batch by batch. While the hub applies one, the next is read and compressed in another
    thread (the two sides' CPU overlap); it is sent only if the hub acknowledged the one before it whole."""
    with ThreadPoolExecutor(max_workers=1) as ahead:
        upcoming = None  # (after, the future batch after it)
        for _round in range(MAX_ROUNDS):
            acked = outbox.mark("up.acked")
            last, body = upcoming[1].result() if upcoming and upcoming[0] == acked else _batch(hub.node, acked)
            if last is None:
                return
            upcoming = (last, ahead.submit(_batch_apart, hub.node, last))
            status, answer = hub.post(PUSH_PATH, body, accept=(200, 409))
            through = answer.get("applied_through") if isinstance(answer, dict) else None
            report.pushed += take_acknowledgement(through)
            report.conflicts += answer.get("conflicts", 0) if status == 200 else 0
    raise SyncFailed("上传批次过多，本次同步中止；请再运行一次", "rerun")


def _batch(node, after):
    """``(last seq, compressed body)`` of the outbox batch after ``after``; ``(None, None)`` when none waits."""
    rows = outbox.batch_after(outbox.UP, after)
    return (rows[-1].seq, batches.encode_rows(node, rows)) if rows else (None, None)


def _batch_apart(node, after):
    """``_batch`` on a connection of its own (in the thread that reads ahead)."""
    with db.connection_context():
        return _batch(node, after)


def take_acknowledgement(through):
    """Store the hub's ``applied_through`` as this township's acknowledged mark; how many changes it newly covers.

    SyncFailed when it does not fit (the hub or this PC restored from an older backup): nothing changes.
    """
    acked, written = outbox.mark("up.acked"), outbox.mark("up.written")
    if not isinstance(through, int) or isinstance(through, bool) or through > written:
        raise SyncFailed(f"县级汇聚中心的应答不对：它记录已收到本机第 {through} 条变更，而本机只写过 {written} 条；"
                         "本机数据可能是从旧备份恢复的，请联系县级管理员", "local_restored")
    if through < acked:
        raise SyncFailed(f"县级汇聚中心只收到本机第 {through} 条变更，但本机已确认到第 {acked} 条："
                         "汇聚中心的数据可能从旧备份恢复，请联系县级管理员", "hub_restored")
    with db.atomic():
        outbox.set_mark("up.acked", through)
        outbox.acknowledged(outbox.UP, through)
    return through - acked


def _pull_all(hub, data_dir, report):
    for _round in range(MAX_ROUNDS):
        after = outbox.mark("down.applied")
        _status, raw = hub.post(PULL_PATH, batches.encode({
            "node": hub.node, "after": after, "catalogue_after": outbox.mark("catalogue.applied")}), raw=True)
        try:
            document = batches.decode(raw)
            first, last, changes = batches.changes_of(document, hub.node)
        except Exception as exc:
            raise SyncFailed(f"县级汇聚中心的应答格式不对（{getattr(exc, 'message', exc)}），本次未做任何更改",
                             "bad_answer") from None
        if isinstance(document.get("catalogue"), dict):
            _apply_catalogue(document["catalogue"], data_dir, report)
        apply_down(hub.node, last, changes, report)
        if not changes:  # a pull that brought nothing: its `after` acknowledged all that came before
            return
    raise SyncFailed("下行批次过多，本次同步中止；请再运行一次", "rerun")


def apply_down(node, last, changes, report):
    """Apply one downstream batch of the hub in one transaction, each change once (a pull, or a file's batch)."""
    with db.atomic():
        mark = outbox.mark("down.applied")
        fresh = [change for change in changes if change["seq"] > mark]
        for change in fresh:
            if not change["case_no"].startswith(node):
                raise SyncFailed(f"县级汇聚中心发来的办件 {change['case_no'][:32]} 不属于本中心，本批未做任何更改",
                                 "bad_answer")
        try:
            report.conflicts += apply_batch(fresh, from_township=False,
                                            where=lambda change: f"第 {change['seq']} 条下行变更")
        except snapshot.BatchInvalid as exc:
            raise SyncFailed(f"县级汇聚中心发来的变更无法记入：{exc.message}；本批未做任何更改",
                             "bad_answer") from None
        report.pulled += len(fresh)
        if changes and last > mark:
            outbox.set_mark("down.applied", last)


def _apply_catalogue(catalogue, data_dir, report):
    try:
        hub_id, version = catalogue["id"], str(catalogue["version"])
        workbook = base64.b64decode(catalogue["workbook"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise SyncFailed("县级汇聚中心发来的事项目录格式不对，目录未更新", "catalogue") from None
    with tempfile.NamedTemporaryFile(dir=data_dir, suffix=".xlsx", delete=False) as handle:
        handle.write(workbook)
    try:
        apply_catalogue_file(handle.name, hub_id, version, report)
    finally:
        Path(handle.name).unlink(missing_ok=True)


def apply_catalogue_file(path, hub_id, version, report):
    """Import the hub's catalogue workbook at ``path`` (its version id ``hub_id`` at the hub) unless already here."""
    if not isinstance(hub_id, int) or isinstance(hub_id, bool) or hub_id <= outbox.mark("catalogue.applied"):
        return
    with db.atomic():
        outcome = store.import_workbook(path, actor="sync", filename=f"汇聚中心目录 {version}.xlsx", allow_older=True)
        if outcome.errors:
            raise SyncFailed(f"县级汇聚中心发来的事项目录 {version} 无法导入："
                             + "；".join(str(e) for e in outcome.errors[:3]), "catalogue")
        outbox.set_mark("catalogue.applied", hub_id)
    if outcome.status == "applied":
        report.catalogue = version
