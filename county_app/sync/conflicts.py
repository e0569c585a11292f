"""Sync conflicts: what they hold, and an administrator's choice of the value that stands (docs/sync.md).

A conflict (``SyncConflict``, found by ``apply``) is one item's department
decision recorded differently on the two sides before they met: this side's
value (``local``) stands, the other's (``incoming``) was kept aside. An
administrator resolves it on either side by choosing which side's value
stands — ``hub`` (the department's record at the county) or ``township``
(the window's). The choice is a new change of the case, event ``resolve``,
written with its outbox row like every change: it travels to the other side,
which applies it as it stands and marks its own conflicts of the item
resolved (``apply_resolution``). When both sides resolve the same item
before they meet, the hub's choice stands on both.
"""
import json
from dataclasses import dataclass

from ..intake import events
from ..intake.errors import Conflict, Invalid, NotFound
from ..intake.records import Case, CaseItem, Suspension
from ..db import db
from ..models import utcnow
from ..record_words import SIDES
from . import snapshot
from .records import SyncConflict

FROM_SYNC = "sync:"  # resolved_by of a conflict resolved by the other side's choice
LISTED = 200  # conflicts a page lists at most


@dataclass
class Shown:
    """A conflict as the pages show it: both sides' values of the item, by side."""
    conflict: SyncConflict
    values: dict  # side → {"status", "result_no", "result_note", "suspended_since", …}
    matter_name: str = ""

    @property
    def resolved(self):
        return self.conflict.resolved_at is not None


def this_side():
    from .nodes import is_hub

    return "hub" if is_hub() else "township"


def shown(conflict, with_name=False):
    here = this_side()
    there = "township" if here == "hub" else "hub"
    name = ""
    if with_name:
        name = (CaseItem.select(CaseItem.name).join(Case).where(
            (Case.case_no == conflict.case_no) & (CaseItem.matter_code == conflict.matter_code)).scalar() or "")
    return Shown(conflict, {here: _loaded(conflict.local), there: _loaded(conflict.incoming)}, name)


def listed(case_no=None, *, open_only=True, limit=LISTED):
    """The conflicts (of case ``case_no``, or all), newest first, as Shown."""
    query = SyncConflict.select()
    if case_no is not None:
        query = query.where(SyncConflict.case_no == case_no)
    if open_only:
        query = query.where(SyncConflict.resolved_at.is_null())
    return [shown(c, with_name=True) for c in query.order_by(SyncConflict.id.desc()).limit(limit)]


def open_count():
    return SyncConflict.select().where(SyncConflict.resolved_at.is_null()).count()


def resolve(conflict_id, side, *, actor):
    """Let ``side``'s value of the conflict's item stand; write the ``resolve`` event (and its outbox row)."""
    if side not in SIDES:
        raise Invalid("请选择采用哪一方的记录：县级汇聚中心或乡镇窗口", [{"field": "side", "message": "应为 hub 或 township"}])
    with db.atomic():
        conflict = SyncConflict.get_or_none(SyncConflict.id == conflict_id)
        if conflict is None:
            raise NotFound(f"没有编号为 {conflict_id} 的同步冲突")
        if conflict.resolved_at is not None:
            raise Conflict(f"这处同步冲突已由 {conflict.resolved_by} 处理", code="resolved")
        case = events.load_case(conflict.case_no, actor=actor)
        item = CaseItem.get((CaseItem.case == case.id) & (CaseItem.matter_code == conflict.matter_code))
        stands = shown(conflict).values[side]
        CaseItem.update({name: stands[name] for name in snapshot.DEPARTMENT_ITEM_COLUMNS}).where(
            CaseItem.id == item.id).execute()
        if "suspensions" in stands:  # the other side's value carries its suspensions; this side's has them here
            _replace_suspensions(item.id, stands["suspensions"])
        events.transition(case, "resolve", case.status, actor, matter=conflict.matter_code, stands=side,
                          outcome=stands["status"], result_no=stands["result_no"])
        _mark_resolved(case.case_no, conflict.matter_code, events.actor_name(actor), side)
    return conflict


def apply_resolution(case, change, code, *, from_township):
    """The other side's ``resolve`` of item ``code``: its value stands here too (inside the batch's transaction).

    At the hub, a township's choice arriving after the hub resolved the item
    itself is not applied (the hub's choice went down and stands there too).
    """
    stands = change.items.get(code)
    item = CaseItem.get_or_none((CaseItem.case == case.id) & (CaseItem.matter_code == code))
    if item is None or stands is None:
        raise snapshot.BatchInvalid(f"办件 {change.case_no} 没有事项 {code}：无法记入同步冲突的处理结果")
    if from_township and (SyncConflict.select().where(
            (SyncConflict.case_no == case.case_no) & (SyncConflict.matter_code == code)
            & SyncConflict.resolved_at.is_null(False) & ~SyncConflict.resolved_by.startswith(FROM_SYNC)).exists()):
        return
    CaseItem.update({name: stands[name] for name in snapshot.DEPARTMENT_ITEM_COLUMNS}).where(
        CaseItem.id == item.id).execute()
    _replace_suspensions(item.id, stands["suspensions"])
    # at a township the hub's choice replaces one made here meanwhile
    _mark_resolved(case.case_no, code, FROM_SYNC + change.event["actor"], _detail_side(change.event),
                   also_resolved=not from_township)


def _mark_resolved(case_no, code, by, side, also_resolved=False):
    which = (SyncConflict.case_no == case_no) & (SyncConflict.matter_code == code)
    if not also_resolved:
        which &= SyncConflict.resolved_at.is_null()
    SyncConflict.update(resolved_at=utcnow(), resolved_by=by[:255], chosen=side).where(which).execute()


def _replace_suspensions(item_id, suspensions):
    Suspension.delete().where(Suspension.item == item_id).execute()
    for suspension in suspensions:
        Suspension.create(item=item_id, **{k: v for k, v in suspension.items() if k not in ("id", "item")})


def _detail_side(event):
    try:
        side = json.loads(event["detail"] or "{}").get("stands")
    except (ValueError, AttributeError):
        side = None
    return side if side in SIDES else ""


def _loaded(text):
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
