"""Applying one change received from the other side to this side's copy of its case.

Each side applies only what the sender owns (docs/sync.md, Who owns what):
the hub takes a township's registration, checklist, status and rating, and
a department's item changes when the window recorded them from paper; a
township takes the department's results and suspensions recorded at the
hub. Status only moves forward (a township's 受理 arriving after the hub
concluded the case leaves it concluded). A department change meeting a
different one already made here is kept out and listed as a ``SyncConflict``:
nothing is overwritten silently; an administrator's ``resolve`` of it
(``conflicts``) is applied as it stands. The event itself is always added to the
case's history, and the case's version moves, so a page open on it here
sees that it changed. Call inside the batch's transaction.

A hub applies a whole night's backlog (100,000 changes: bench/sync_bench.py),
so the statements run for every change are prepared once (``prepared.py``),
and of a case's checklist only the entries that differ are written.
"""
import json
from datetime import datetime

from peewee import fn

from ..intake import namesearch, numbers
from ..intake.cases import issue_notice
from ..intake.records import Case, CaseEvent, CaseItem, CaseMaterial, Evaluation, MaterialScan, Suspension
from ..models import CatalogueVersion, MatterRow
from . import scanstore
from .conflicts import apply_resolution
from ..prepared import Prepared, insert_new
from .records import SyncConflict
from .snapshot import CASE_COLUMNS, DEPARTMENT_ITEM_COLUMNS, MATERIAL_COLUMNS, BatchInvalid

RANK = {"registered": 0, "correction": 1, "accepted": 2, "concluded": 3, "delivered": 4, "rejected": 4}
DEPARTMENT_ACTIONS = frozenset({"result", "suspend", "resume"})
DERIVED_CASE_COLUMNS = ("status", "due_date", "due_complete", "concluded_at", "concluded_on")


def apply_change(change, *, from_township):
    """Apply a checked ``snapshot.Change``; returns the number of conflicts it found (0 or 1)."""
    case = _CASE_BY_NUMBER.first(change.case_no)
    if from_township:
        case = _township_state(case, change)
    elif case is None:
        raise BatchInvalid(f"办件 {change.case_no} 在本机不存在，无法记入县级汇聚中心的办理结果")
    conflicts = 0
    action = change.event["action"]
    if action in DEPARTMENT_ACTIONS:
        conflicts = _department_change(case, change)
    elif action == "resolve":
        apply_resolution(case, change, str(_detail(change.event).get("matter")), from_township=from_township)
    elif from_township and action == "accept":
        for item in CaseItem.of_case(case.id):  # acceptance sets every item's due date
            incoming = change.items.get(item.matter_code)
            if incoming is not None:
                CaseItem.update(due_date=incoming["due_date"], due_complete=incoming["due_complete"]).where(
                    CaseItem.id == item.id).execute()
    concluded_here = _derived_state(case, change)
    insert_new(CaseEvent(case=case.id, **change.event, request_key=None))
    if concluded_here and not from_township:
        issue_notice(case, "completion", change.event["actor"])  # the 办结通知书 the window prints
    return conflicts


def _township_state(case, change):
    own = {k: v for k, v in change.case.items() if k not in DERIVED_CASE_COLUMNS}
    if case is None:
        version = _VERSION_BY_NAME.first(change.catalogue)
        if version is None:
            raise BatchInvalid(f"办件 {change.case_no} 依据的事项目录版本 {change.catalogue} 在县级汇聚中心没有："
                               "请先在汇聚中心导入该版本的目录，再同步")
        derived = {k: change.case[k] for k in DERIVED_CASE_COLUMNS}
        case = insert_new(Case(case_no=change.case_no, case_no_reversed=numbers.reversed_number(change.case_no),
                               catalogue=version.id, **own, **derived))
        namesearch.index_case(case.id, case.applicant_name, namesearch.agent_name(case.agent))
        for code, item in change.items.items():
            matter = _MATTER_BY_CODE.first(version.id, code)
            if matter is None:
                raise BatchInvalid(f"办件 {change.case_no} 的事项 {code} 不在县级汇聚中心的目录版本 "
                                   f"{change.catalogue} 中")
            columns = {k: v for k, v in item.items() if k != "suspensions"}
            created = insert_new(CaseItem(case=case.id, matter=matter.id, **columns))
            for suspension in item["suspensions"]:
                insert_new(Suspension(item=created.id, **suspension))
    else:
        _UPDATE_OWN.execute(*_bound(OWN_CASE_COLUMNS, own), case.id)
    held = {material.code: material for material in CaseMaterial.of_case(case.id)}
    for material in change.materials:
        current = held.get(material["code"])
        if current is None:
            insert_new(CaseMaterial(case=case.id, **material))
        elif any(_plain(getattr(current, column.name)) != material[column.name] for column in MATERIAL_COLUMNS):
            _UPDATE_MATERIAL.execute(*_bound(MATERIAL_COLUMNS, material), case.id, material["code"])
    if change.evaluation and not Evaluation.select().where(Evaluation.case == case.id).exists():
        Evaluation.create(case=case.id, **change.evaluation)
    _link_scans(case, change)
    return _CASE_BY_ID.first(case.id)


def _link_scans(case, change):
    """The case's scans as the township holds them; each file the hub lacks is awaited from the township."""
    for scan in change.scans:
        material = CaseMaterial.get_or_none((CaseMaterial.case == case.id) & (CaseMaterial.code == scan["material"]))
        if material is None:
            raise BatchInvalid(f"办件 {change.case_no} 的扫描件 {scan['sha256'][:12]}… 挂在材料 {scan['material']} 上，"
                               "而该办件的材料清单中没有这项材料")
        row = scanstore.scan_row(scan["sha256"], scan["kind"], scan["size"], scan["pages"], scan["attached_by"])
        scanstore.expect(change.case_no[:12], row)
        if not MaterialScan.select().where((MaterialScan.material == material.id)
                                           & (MaterialScan.scan == row.id)).exists():
            MaterialScan.create(material=material.id, scan=row.id, filename=scan["filename"],
                                attached_at=scan["attached_at"], attached_by=scan["attached_by"])


def _department_change(case, change):
    code = _detail(change.event).get("matter")
    item = _ITEM_BY_CODE.first(case.id, str(code))
    incoming = change.items.get(str(code))
    if item is None or incoming is None:
        raise BatchInvalid(f"办件 {change.case_no} 没有事项 {code}：无法记入其办理结果或暂停计时")
    local = {name: getattr(item, name) for name in DEPARTMENT_ITEM_COLUMNS}
    if _conflicts(change.event["action"], local, incoming):
        SyncConflict.create(case_no=case.case_no, matter_code=item.matter_code, action=change.event["action"],
                            local=json.dumps(local, ensure_ascii=False, default=str),
                            incoming=json.dumps(incoming, ensure_ascii=False, default=str))
        return 1
    _UPDATE_DEPARTMENT.execute(*_bound(DEPARTMENT_FIELDS, incoming), item.id)
    _DELETE_SUSPENSIONS.execute(item.id)
    for suspension in incoming["suspensions"]:
        insert_new(Suspension(item=item.id, **suspension))
    return 0


def _conflicts(action, local, incoming):
    """Whether this side already holds a different department decision for the item."""
    decided = local["status"] in ("approved", "denied")
    if action == "result":
        return decided and (local["status"], local["result_no"]) != (incoming["status"], incoming["result_no"])
    if action == "suspend":
        return decided or (local["status"] == "suspended" and local["suspended_since"] != incoming["suspended_since"])
    return decided  # resume


def _derived_state(case, change):
    """Move status forward, take a conclusion, recompute the due date; whether the case concluded now."""
    incoming = change.case
    status = incoming["status"] if RANK.get(incoming["status"], -1) > RANK.get(case.status, -1) else case.status
    concluded = (incoming["concluded_at"], incoming["concluded_on"]) if incoming["concluded_at"] else (None, None)
    dues = [item.due_date for item in CaseItem.of_case(case.id) if item.due_date]
    _UPDATE_DERIVED.execute(status, *concluded, max(dues) if dues else None, case.id)  # kept: a conclusion once set
    return status == "concluded" and case.status != "concluded"


def _plain(value):
    """A stored value as a received payload gives it (moments as text)."""
    return str(value) if isinstance(value, datetime) else value


def _bound(columns, values):
    return [column.db_value(values[column.name]) for column in columns]


OWN_CASE_COLUMNS = [column for column in CASE_COLUMNS if column.name not in DERIVED_CASE_COLUMNS]
_CASE_BY_NUMBER = Prepared(lambda number: Case.select().where(Case.case_no == number))
_CASE_BY_ID = Prepared(lambda case_id: Case.select().where(Case.id == case_id))
_UPDATE_OWN = Prepared(lambda *values: Case.update(dict(zip(OWN_CASE_COLUMNS, values))).where(Case.id == values[-1]),
                       arity=len(OWN_CASE_COLUMNS) + 1)
_UPDATE_MATERIAL = Prepared(lambda *values: CaseMaterial.update(dict(zip(MATERIAL_COLUMNS, values))).where(
    (CaseMaterial.case == values[-2]) & (CaseMaterial.code == values[-1])), arity=len(MATERIAL_COLUMNS) + 2)
DEPARTMENT_FIELDS = [getattr(CaseItem, name) for name in DEPARTMENT_ITEM_COLUMNS]
_VERSION_BY_NAME = Prepared(lambda name: CatalogueVersion.select().where(CatalogueVersion.version == name)
                            .order_by(CatalogueVersion.id.desc()).limit(1))
_MATTER_BY_CODE = Prepared(lambda version, code: MatterRow.select().where(
    (MatterRow.catalogue == version) & (MatterRow.code == code)))
_ITEM_BY_CODE = Prepared(lambda case_id, code: CaseItem.select().where(
    (CaseItem.case == case_id) & (CaseItem.matter_code == code)))
_UPDATE_DEPARTMENT = Prepared(lambda *values: CaseItem.update(dict(zip(DEPARTMENT_FIELDS, values))).where(
    CaseItem.id == values[-1]), arity=len(DEPARTMENT_FIELDS) + 1)
_DELETE_SUSPENSIONS = Prepared(lambda item: Suspension.delete().where(Suspension.item == item))
_UPDATE_DERIVED = Prepared(lambda status, concluded_at, concluded_on, due_date, case_id: Case.update({
    Case.status: status, Case.version: Case.version + 1,
    Case.concluded_at: fn.COALESCE(Case.concluded_at, concluded_at),
    Case.concluded_on: fn.COALESCE(Case.concluded_on, concluded_on),
    Case.due_date: fn.COALESCE(due_date, Case.due_date)}).where(Case.id == case_id))


def _detail(event):
    try:
        detail = json.loads(event["detail"]) if event["detail"] else {}
    except ValueError:
        raise BatchInvalid(f"事件内容（detail）不是有效的 JSON：{event['detail'][:40]}") from None
    return detail if isinstance(detail, dict) else {}
