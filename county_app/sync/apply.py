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
"""
import json

from ..intake import namesearch, numbers
from ..intake.cases import issue_notice
from ..intake.records import Case, CaseEvent, CaseItem, CaseMaterial, Evaluation, MaterialScan, Suspension
from ..models import CatalogueVersion, MatterRow
from . import scanstore
from .conflicts import apply_resolution
from .records import SyncConflict
from .snapshot import DEPARTMENT_ITEM_COLUMNS, BatchInvalid

RANK = {"registered": 0, "correction": 1, "accepted": 2, "concluded": 3, "delivered": 4, "rejected": 4}
DEPARTMENT_ACTIONS = frozenset({"result", "suspend", "resume"})
DERIVED_CASE_COLUMNS = ("status", "due_date", "due_complete", "concluded_at", "concluded_on")


def apply_change(change, *, from_township):
    """Apply a checked ``snapshot.Change``; returns the number of conflicts it found (0 or 1)."""
    case = Case.get_or_none(Case.case_no == change.case_no)
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
    CaseEvent.create(case=case.id, **change.event, request_key=None)
    if concluded_here and not from_township:
        issue_notice(case, "completion", change.event["actor"])  # the 办结通知书 the window prints
    return conflicts


def _township_state(case, change):
    own = {k: v for k, v in change.case.items() if k not in DERIVED_CASE_COLUMNS}
    if case is None:
        version = (CatalogueVersion.select().where(CatalogueVersion.version == change.catalogue)
                   .order_by(CatalogueVersion.id.desc()).first())
        if version is None:
            raise BatchInvalid(f"办件 {change.case_no} 依据的事项目录版本 {change.catalogue} 在县级汇聚中心没有："
                               "请先在汇聚中心导入该版本的目录，再同步")
        derived = {k: change.case[k] for k in DERIVED_CASE_COLUMNS}
        case = Case.create(case_no=change.case_no, case_no_reversed=numbers.reversed_number(change.case_no),
                           catalogue=version.id, **own, **derived)
        namesearch.index_case(case.id, case.applicant_name, namesearch.agent_name(case.agent))
        for code, item in change.items.items():
            matter = MatterRow.get_or_none((MatterRow.catalogue == version.id) & (MatterRow.code == code))
            if matter is None:
                raise BatchInvalid(f"办件 {change.case_no} 的事项 {code} 不在县级汇聚中心的目录版本 "
                                   f"{change.catalogue} 中")
            columns = {k: v for k, v in item.items() if k != "suspensions"}
            created = CaseItem.create(case=case.id, matter=matter.id, **columns)
            for suspension in item["suspensions"]:
                Suspension.create(item=created.id, **suspension)
    else:
        Case.update(own).where(Case.id == case.id).execute()
    for material in change.materials:
        updated = (CaseMaterial.update(material)
                   .where((CaseMaterial.case == case.id) & (CaseMaterial.code == material["code"])).execute())
        if not updated:
            CaseMaterial.create(case=case.id, **material)
    if change.evaluation and not Evaluation.select().where(Evaluation.case == case.id).exists():
        Evaluation.create(case=case.id, **change.evaluation)
    _link_scans(case, change)
    return Case.get_by_id(case.id)


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
    item = CaseItem.get_or_none((CaseItem.case == case.id) & (CaseItem.matter_code == str(code)))
    incoming = change.items.get(str(code))
    if item is None or incoming is None:
        raise BatchInvalid(f"办件 {change.case_no} 没有事项 {code}：无法记入其办理结果或暂停计时")
    local = {name: getattr(item, name) for name in DEPARTMENT_ITEM_COLUMNS}
    if _conflicts(change.event["action"], local, incoming):
        SyncConflict.create(case_no=case.case_no, matter_code=item.matter_code, action=change.event["action"],
                            local=json.dumps(local, ensure_ascii=False, default=str),
                            incoming=json.dumps(incoming, ensure_ascii=False, default=str))
        return 1
    CaseItem.update({name: incoming[name] for name in DEPARTMENT_ITEM_COLUMNS}).where(
        CaseItem.id == item.id).execute()
    Suspension.delete().where(Suspension.item == item.id).execute()
    for suspension in incoming["suspensions"]:
        Suspension.create(item=item.id, **suspension)
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
    values = {Case.status: status, Case.version: Case.version + 1}
    if case.concluded_at is None and incoming["concluded_at"]:
        values.update({Case.concluded_at: incoming["concluded_at"], Case.concluded_on: incoming["concluded_on"]})
    dues = [item.due_date for item in CaseItem.of_case(case.id) if item.due_date]
    if dues:
        values[Case.due_date] = max(dues)
    Case.update(values).where(Case.id == case.id).execute()
    return status == "concluded" and case.status != "concluded"


def _detail(event):
    try:
        detail = json.loads(event["detail"]) if event["detail"] else {}
    except ValueError:
        raise BatchInvalid(f"事件内容（detail）不是有效的 JSON：{event['detail'][:40]}") from None
    return detail if isinstance(detail, dict) else {}
