"""A township sends its scans after the changes that name them: resumable chunks (docs/sync.md, Scans).

A scan waits in ``SyncScan`` from the transaction that attached it; it goes
once the hub has acknowledged that change (so the hub knows the case and the
file's size). ``HEAD`` gives the offset the hub holds, then ``PUT ?offset=N``
sends the file from there in chunks of at most 1 MB, read one at a time from
the disk. A chunk lost with a dropped link is sent again at half the size
(down to 64 KB; doubled again after each chunk that arrives), so that a link
that drops every few hundred KB still carries a 20 MB scan; a chunk the hub
stored but whose answer was lost is answered 409 with the true offset, and
the upload goes on from there. The row is forgotten once the hub holds the
whole file.
"""
import time

from ..db import db
from ..digests import file_sha256
from ..intake.records import Scan
from ..intake.scans import scan_path
from . import outbox
from .errors import SyncFailed
from .hub import scan_path as upload_path
from .records import SyncScan
from .transport import DROP_RETRIES, FIRST_PAUSE, LinkDropped

CHUNK = 1024 * 1024
SMALLEST_CHUNK = 64 * 1024
PAGE = 100  # waiting scans read at a time


def waiting(after_seq=0, through=None):
    """The township's waiting ``SyncScan`` rows after ``after_seq`` (at most PAGE), up to ``through`` if given."""
    query = SyncScan.select().where((SyncScan.node == outbox.UP) & (SyncScan.seq > after_seq))
    if through is not None:
        query = query.where(SyncScan.seq <= through)
    return list(query.order_by(SyncScan.seq, SyncScan.id).limit(PAGE))


def local_file(sha256):
    """The path of the stored scan ``sha256`` if it is there whole and intact, else None."""
    scan = Scan.get_or_none(Scan.sha256 == sha256)
    if scan is None:
        return None
    path = scan_path(scan)
    if not path.is_file() or path.stat().st_size != scan.size:
        return None
    return path if file_sha256(path) == sha256 else None


def sent(row):
    """Forget a waiting scan: the hub holds it whole."""
    with db.atomic():
        SyncScan.delete().where(SyncScan.id == row.id).execute()


def send_all(hub, report):
    """Send every scan whose change the hub acknowledged; counts into ``report`` (``scans``, ``scan_bytes``).

    A scan that cannot go (lost or damaged here, or not awaited by the hub)
    stays waiting and is reported; the others go, and the run goes on to pull.
    """
    acked, after, damaged, unawaited = outbox.mark("up.acked"), -1, [], []
    while rows := waiting(after, acked):
        for row in rows:
            after = row.seq
            path = local_file(row.sha256)
            if path is None:
                damaged.append(row.sha256[:12])
                continue
            sent_bytes = _send(hub, row.sha256, path)
            if sent_bytes is None:
                unawaited.append(row.sha256[:12])
                continue
            report.scan_bytes += sent_bytes
            sent(row)
            report.scans += 1
    if damaged:
        report.error = (f"扫描件 {'、'.join(damaged[:5])}… 在本机已丢失或损坏（内容与 SHA-256 不符），未上传；"
                        "请在办件页面重新扫描该材料")
        report.error_kind = "scan_damaged"
    elif unawaited:  # a HEAD answer has no body to say why: the one reason the hub has
        report.error = (f"县级汇聚中心没有在等待扫描件 {'、'.join(unawaited[:5])}…（它没有收到提到该扫描件的办件变更），"
                        "这些扫描件暂未上传，其余已同步：请联系县级管理员核对两端的同步记录")
        report.error_kind = "refused"


def _send(hub, sha256, path):
    """Send the file from the hub's offset on; the bytes sent, or None when the hub does not await it."""
    status, headers, _ = hub.request("HEAD", upload_path(sha256), accept=(200, 404))
    if status == 404:
        return None
    stored, size = _offsets(headers)
    chunk, drops, sent_bytes = CHUNK, 0, 0
    with open(path, "rb") as handle:
        while stored < size:
            handle.seek(stored)
            piece = handle.read(chunk)
            try:
                status, headers, _ = hub.request("PUT", f"{upload_path(sha256)}?offset={stored}", piece,
                                                 accept=(200, 409), retry=False)
            except LinkDropped:
                drops += 1
                if drops > DROP_RETRIES * 4:
                    raise
                chunk = max(SMALLEST_CHUNK, chunk // 2)
                time.sleep(FIRST_PAUSE * min(drops, 5))
                continue
            drops = 0
            before, (stored, size) = stored, _offsets(headers)
            if status == 200:
                sent_bytes += stored - before
                chunk = min(CHUNK, chunk * 2)
    return sent_bytes


def _offsets(headers):
    try:
        return int(headers["X-Scan-Offset"]), int(headers["X-Scan-Size"])
    except (KeyError, TypeError, ValueError):
        raise SyncFailed("县级汇聚中心对扫描件上传的应答缺少 X-Scan-Offset：请确认汇聚中心已升级到同一版本",
                         "bad_answer") from None
