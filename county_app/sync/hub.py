"""What the hub does with a township's push and pull (docs/sync.md, One exchange).

``receive_push`` applies a batch in one transaction, exactly once: the
node's ``applied_through`` moves with it, a change at or below it is
skipped (a resend after a lost answer), and a batch that starts beyond it
is refused with 409 and the mark. A batch touching a case that is not the
node's (its number does not begin with the node's code) is refused whole.
``answer_pull`` forgets what the township acknowledged and answers the next
downstream batch, and the catalogue in force when the township lacks it.
``receive_reconciliation`` checks the signature of a township's
reconciliation request and hands it to ``hub/reconciliation.py``.
``require_https`` refuses a request that came over plain HTTP from another
machine, before its signature is even read (docs/hub.md).
"""
import base64
import io
import ipaddress
import os
import re
import time

from ..catalogue import store
from ..db import db
from ..hub import reconciliation
from ..models import CatalogueVersion, utcnow
from . import batches, nodes, outbox, reconcile, scanstore, signing
from .apply import apply_batch
from .errors import SyncRefused
from .records import SyncNode

PUSH_PATH, PULL_PATH = "/api/v1/sync/push", "/api/v1/sync/pull"
_OFFSET = re.compile(r"offset=([0-9]{1,12})")


def scan_path(sha256):
    """The path of a scan's resumable upload (HEAD: the stored offset; PUT ``?offset=N``: one chunk)."""
    return f"/api/v1/sync/scans/{sha256}"


def require_https(scheme, peer, *, forwarded, behind_proxy):
    """SyncRefused 403 unless the request came over HTTPS or from this machine.

    ``scheme`` and ``peer`` are the request's as the server sees them: behind
    the declared reverse proxy (``behind_proxy``, ``serve --behind-proxy``)
    those the proxy forwarded, else the connection's own. ``forwarded``: the
    request carries X-Forwarded-… headers; without a declared proxy they
    mean a proxy this server was not told about, whose outer leg may be
    plain HTTP, so the request is refused even from this machine.
    """
    if forwarded and not behind_proxy:
        raise SyncRefused(403, "https_required",
                          "这个同步请求经反向代理转发（带 X-Forwarded-… 请求头），但县级汇聚中心启动时没有说明有代理："
                          "无法确认乡镇到代理这一段是 HTTPS，已拒绝，未做任何更改。由代理终止 TLS 时，"
                          "请以 serve --behind-proxy（代理不在本机时加 --proxy-address）启动汇聚中心")
    if scheme == "https" or _loopback(peer):
        return
    raise SyncRefused(403, "https_required",
                      f"县级汇聚中心只经 HTTPS 接收同步请求：这个请求来自 {str(peer)[:45]}，用的是明文 HTTP，"
                      "已拒绝，未做任何更改。请把乡镇的 sync.url 改为 https:// 开头的地址；"
                      "县里的反向代理终止 TLS 时，汇聚中心须以 serve --behind-proxy 启动")


def _loopback(address):
    try:
        return ipaddress.ip_address(str(address or "").strip("[]")).is_loopback
    except ValueError:
        return False


def _signed_node(data_dir, path, headers, body, method="POST"):
    if not nodes.is_hub():
        raise SyncRefused(404, "not_hub", "本机不是县级汇聚中心（node.role 不是 hub），不接收同步请求")
    return signing.verify(data_dir, method, path, headers, body)


def receive_push(data_dir, headers, body):
    """The answer ``{"applied_through", "applied", "conflicts"}`` to a push; SyncRefused when refused."""
    node = _signed_node(data_dir, PUSH_PATH, headers, body)
    first, last, changes = batches.changes_of(batches.decode(body), node.code)
    return apply_push(node.code, first, last, changes)


def apply_push(code, first, last, changes):
    """Apply one batch of township ``code`` in one transaction, each change once (a push, or a batch of its file)."""
    for change in changes:
        if not change["case_no"].startswith(code):
            raise SyncRefused(403, "foreign_case", f"批次中的办件 {change['case_no'][:32]} 不属于节点 {code}"
                                                   "（办件编号应以本中心区划代码开头），整批已拒绝，未做任何更改")
    with db.atomic():
        _touch(code)  # first write of the transaction: the node row is locked from here on
        mark = SyncNode.get(SyncNode.code == code).applied_through
        if changes and first > mark + 1:
            raise SyncRefused(409, "gap", f"批次从第 {first} 条开始，但汇聚中心只收到第 {mark} 条：请从第 {mark + 1} 条重发",
                              applied_through=mark)
        fresh = [change for change in changes if change["seq"] > mark]  # the rest: applied before, answer lost
        _hold_for_kill_tests()
        conflicts = apply_batch(fresh, from_township=True, where=lambda change: f"第 {change['seq']} 条变更")
        applied = len(fresh)
        if changes and last > mark:
            SyncNode.update(applied_through=last).where(SyncNode.code == code).execute()
            mark = last
    return {"applied_through": mark, "applied": applied, "conflicts": conflicts}


def answer_pull(data_dir, headers, body):
    """The compressed answer to a pull: the downstream batch after ``after``, and the catalogue if newer."""
    node = _signed_node(data_dir, PULL_PATH, headers, body)
    document = batches.decode(body)
    document = document if isinstance(document, dict) else {}
    after, catalogue_after = document.get("after"), document.get("catalogue_after")
    if document.get("node") != node.code or not (_whole(after) and _whole(catalogue_after)):
        raise SyncRefused(400, "malformed", "拉取请求应为 {node, after, catalogue_after}，after 为非负整数")
    with db.atomic():
        _touch(node.code)
        written = SyncNode.get(SyncNode.code == node.code).down_written
        if after > written:
            raise SyncRefused(409, "ahead", f"本机记录已收到汇聚中心第 {after} 条，但汇聚中心只发出过 {written} 条："
                                            "汇聚中心的数据可能从旧备份恢复，请联系县级管理员", applied_through=written)
        outbox.acknowledged(node.code, after)
        rows = outbox.batch_after(node.code, after)
    extra = {}
    current = CatalogueVersion.in_force()
    if current is not None and current.id > catalogue_after:
        workbook = io.BytesIO()
        store.export_workbook(workbook)
        extra["catalogue"] = {"id": current.id, "version": current.version,
                              "workbook": base64.b64encode(workbook.getvalue()).decode("ascii")}
    return batches.encode_rows(node.code, rows, **extra)


def receive_reconciliation(data_dir, path, headers, body):
    """The answer to a signed reconciliation request at ``path`` (``reconcile.RECONCILE_PATH`` or ``…_DAY_PATH``)."""
    if path not in (reconcile.RECONCILE_PATH, reconcile.RECONCILE_DAY_PATH):
        raise SyncRefused(404, "not_found", "没有这个核对接口")
    node = _signed_node(data_dir, path, headers, body)
    with db.atomic():
        _touch(node.code)
    return reconciliation.receive(node.code, path, batches.decode(body))


def scan_offset(data_dir, headers, sha256):
    """``(stored offset, size)`` of a scan the signing township sends (HEAD)."""
    node = _signed_node(data_dir, scan_path(sha256), headers, b"", method="HEAD")
    return scanstore.offset(node.code, sha256)


def receive_chunk(data_dir, headers, sha256, query, body):
    """Append one chunk at ``?offset=N`` (PUT); the new ``(offset, size)``. The query is signed with the path."""
    node = _signed_node(data_dir, f"{scan_path(sha256)}?{query}", headers, body, method="PUT")
    given = _OFFSET.fullmatch(query)
    if given is None:
        raise SyncRefused(400, "malformed", "上传扫描件应写明 ?offset=N（从第几个字节续传）")
    return scanstore.append(node.code, sha256, int(given.group(1)), body)


def _touch(code):
    SyncNode.update(last_contact_at=utcnow()).where(SyncNode.code == code).execute()


def _whole(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2 ** 53


def _hold_for_kill_tests():
    """Fault injection: with COUNTY_APP_SYNC_TEST_HOLD=S (at most 5 s) a batch's transaction stays open S
    seconds, so that tests/test_sync_exchange.py kills the hub inside it on any machine, however fast."""
    hold = os.environ.get("COUNTY_APP_SYNC_TEST_HOLD")
    if hold:
        time.sleep(min(float(hold), 5.0))
