"""What the hub does with a township's push and pull (docs/sync.md, One exchange).

``receive_push`` applies a batch in one transaction, exactly once: the
node's ``applied_through`` moves with it, a change at or below it is
skipped (a resend after a lost answer), and a batch that starts beyond it
is refused with 409 and the mark. A batch touching a case that is not the
node's (its number does not begin with the node's code) is refused whole.
``answer_pull`` forgets what the township acknowledged and answers the next
downstream batch, and the catalogue in force when the township lacks it.
"""
import base64
import io

from ..catalogue import store
from ..db import db
from ..models import CatalogueVersion, utcnow
from . import batches, nodes, outbox, signing
from .apply import apply_batch
from .errors import SyncRefused
from .records import SyncNode

PUSH_PATH, PULL_PATH = "/api/v1/sync/push", "/api/v1/sync/pull"

def _signed_node(data_dir, path, headers, body):
    if not nodes.is_hub():
        raise SyncRefused(404, "not_hub", "本机不是县级汇聚中心（node.role 不是 hub），不接收同步请求")
    return signing.verify(data_dir, "POST", path, headers, body)


def receive_push(data_dir, headers, body):
    """The answer ``{"applied_through", "applied", "conflicts"}`` to a push; SyncRefused when refused."""
    node = _signed_node(data_dir, PUSH_PATH, headers, body)
    first, last, changes = batches.changes_of(batches.decode(body), node.code)
    for change in changes:
        if not change["case_no"].startswith(node.code):
            raise SyncRefused(403, "foreign_case", f"批次中的办件 {change['case_no'][:32]} 不属于节点 {node.code}"
                                                   "（办件编号应以本中心区划代码开头），整批已拒绝，未做任何更改")
    with db.atomic():
        _touch(node.code)  # first write of the transaction: the node row is locked from here on
        mark = SyncNode.get(SyncNode.code == node.code).applied_through
        if changes and first > mark + 1:
            raise SyncRefused(409, "gap", f"批次从第 {first} 条开始，但汇聚中心只收到第 {mark} 条：请从第 {mark + 1} 条重发",
                              applied_through=mark)
        fresh = [change for change in changes if change["seq"] > mark]  # the rest: applied before, answer lost
        conflicts = apply_batch(fresh, from_township=True, where=lambda change: f"第 {change['seq']} 条变更")
        applied = len(fresh)
        if changes and last > mark:
            SyncNode.update(applied_through=last).where(SyncNode.code == node.code).execute()
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
    extra = {"more": bool(rows) and rows[-1].seq < written}
    current = CatalogueVersion.in_force()
    if current is not None and current.id > catalogue_after:
        workbook = io.BytesIO()
        store.export_workbook(workbook)
        extra["catalogue"] = {"id": current.id, "version": current.version,
                              "workbook": base64.b64encode(workbook.getvalue()).decode("ascii")}
    return batches.encode_rows(node.code, rows, **extra)


def _touch(code):
    SyncNode.update(last_contact_at=utcnow()).where(SyncNode.code == code).execute()


def _whole(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2 ** 53
