"""Applying a batch of changes received from the other side to this side's copies of their cases.

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
so a batch is applied case by case (``_CaseRun``): each change of the case
is worked out in order, in memory, exactly as if applied alone (its status,
conclusion, due date, the items it touches, its conflicts), and the case is
then written once: its registration and checklist from its last change in
the batch (every payload carries the whole state after its change; only the
entries that differ are written), its items as the changes left them. The
cases new here are written last, together (``_insert_cases``: a statement
per table, not per row), and the batch's events go in together, in their
order, after its cases.
"""
import json
from datetime import datetime

from peewee import fn

from ..intake import namesearch, numbers
from ..intake.cases import issue_notice
from ..intake.records import Case, CaseEvent, CaseItem, CaseMaterial, Evaluation, MaterialScan, Suspension
from ..models import CatalogueVersion, MatterRow
from ..prepared import Prepared, insert_all, insert_new, insert_rows
from . import scanstore, snapshot
from .conflicts import apply_resolution
from .records import SyncConflict
from .snapshot import (CASE_COLUMNS, DEPARTMENT_ITEM_COLUMNS, DERIVED_CASE_COLUMNS, ITEM_ACTIONS, MATERIAL_COLUMNS,
                       BatchInvalid)

RANK = {"registered": 0, "correction": 1, "accepted": 2, "concluded": 3, "delivered": 4, "rejected": 4}
DEPARTMENT_ACTIONS = frozenset({"result", "suspend", "resume"})


def apply_batch(received, *, from_township, where):
    """Apply the received changes ``[{"seq", "case_no", "action", "payload"}]``, in order; the conflicts found.

    ``where(change)`` names a change in a refusal (第 n 条变更). A BatchInvalid
    refuses the whole batch (the caller's transaction then writes nothing).
    """
    by_case = {}
    for change in received:
        by_case.setdefault(change["case_no"], []).append(change)
    held = {case.case_no: case for case in Case.select().where(Case.case_no.in_(list(by_case)))} if by_case else {}
    catalogue, runs = _Catalogue(), []
    for case_no, changes in by_case.items():
        run = _CaseRun(case_no, from_township, held.get(case_no), catalogue)
        for index, change in enumerate(changes):  # read as far as taken (what outbox.batch_after sends)
            run.take(snapshot.read(case_no, change["payload"], where(change),
                                   whole=index == len(changes) - 1 or change["action"] == "resolve",
                                   items=index == 0 and run.case is None or change["action"] in ITEM_ACTIONS))
        if run.case is not None:  # held here (or registered by a resolution's write): written now
            run.write()
        runs.append(run)
    _insert_cases([run for run in runs if run.case is None])
    conflicts, events = 0, []
    for run, changes in zip(runs, by_case.values()):
        conflicts += len(run.conflicts)
        events.extend((change["seq"], {**event, "case": run.case.id, "request_key": None})
                      for change, event in zip(changes, run.events))
        for actor in run.concluded_by:  # the 办结通知书 the window prints
            issue_notice(run.case, "completion", actor)
    events.sort(key=lambda pair: pair[0])
    insert_rows(CaseEvent, [event for _seq, event in events])
    return conflicts


class _Item:
    """A case's item as the changes so far leave it: its columns, whether they changed, and its suspensions
    when they are to be written (None: as held)."""
    __slots__ = ("id", "values", "suspensions", "changed")

    def __init__(self, item_id, values, suspensions=None):
        self.id, self.values, self.suspensions, self.changed = item_id, values, suspensions, False


class _CaseRun:
    """The changes of one case in a batch, worked out in order in memory, then written once (``write``)."""

    def __init__(self, case_no, from_township, case, catalogue):
        self.case_no, self.from_township, self.case, self.lookup = case_no, from_township, case, catalogue
        if self.case is None and not from_township:
            raise BatchInvalid(f"办件 {case_no} 在本机不存在，无法记入县级汇聚中心的办理结果")
        self.items = None if self.case is None else self._held_items()
        self.state = None if self.case is None else {name: getattr(self.case, name) for name in DERIVED_CASE_COLUMNS}
        self.last, self.catalogue = None, None
        self.conclusion, self.due_date = [None, None], None  # the first conclusion and the last due date seen
        self.events, self.conflicts, self.concluded_by = [], [], []
        self.count = self.conflicts_written = 0  # changes taken, conflicts inserted, since the last write

    def _held_items(self):
        items = {}
        for item in CaseItem.of_case(self.case.id):
            items.setdefault(item.matter_code, _Item(item.id, {n: getattr(item, n) for n in DEPARTMENT_ITEM_COLUMNS}))
        return items

    def take(self, change):
        """Work out ``change`` as if applied alone after the ones taken before."""
        if self.case is None and self.last is None:
            self._register(change)
        self.last, self.count = change, self.count + 1
        action = change.event["action"]
        if action in DEPARTMENT_ACTIONS:
            self._department_change(change)
        elif action == "resolve":
            self.write()  # a resolution reads and writes the items and conflicts as they stand
            apply_resolution(self.case, change, str(_detail(change.event).get("matter")),
                             from_township=self.from_township)
            self.items = self._held_items()
        elif self.from_township and action == "accept":  # acceptance sets every item's due date
            for code, item in self.items.items():
                incoming = change.items.get(code)
                if incoming is not None:
                    item.values.update(due_date=incoming["due_date"], due_complete=incoming["due_complete"])
                    item.changed = True
        self._derived_state(change)
        self.events.append(change.event)

    def _register(self, change):
        """A case new here: its items and derived state from its first change; written by ``write``."""
        self.catalogue = self.lookup.version(change.catalogue)
        if self.catalogue is None:
            raise BatchInvalid(f"办件 {change.case_no} 依据的事项目录版本 {change.catalogue} 在县级汇聚中心没有："
                               "请先在汇聚中心导入该版本的目录，再同步")
        self.state = {name: change.case[name] for name in DERIVED_CASE_COLUMNS}
        self.items = {}
        for code, item in change.items.items():
            matter = self.lookup.matter(self.catalogue.id, code)
            if matter is None:
                raise BatchInvalid(f"办件 {change.case_no} 的事项 {code} 不在县级汇聚中心的目录版本 "
                                   f"{change.catalogue} 中")
            values = {k: v for k, v in item.items() if k != "suspensions"}
            values["matter"] = matter.id
            self.items[code] = _Item(None, values, item["suspensions"])

    def _department_change(self, change):
        code = str(_detail(change.event).get("matter"))
        item, incoming = self.items.get(code), change.items.get(code)
        if item is None or incoming is None:
            raise BatchInvalid(f"办件 {change.case_no} 没有事项 {code}：无法记入其办理结果或暂停计时")
        local = {name: item.values[name] for name in DEPARTMENT_ITEM_COLUMNS}
        if _conflicts(change.event["action"], local, incoming):
            self.conflicts.append(SyncConflict(
                case_no=self.case_no, matter_code=code, action=change.event["action"],
                local=json.dumps(local, ensure_ascii=False, default=str),
                incoming=json.dumps(incoming, ensure_ascii=False, default=str)))
            return
        item.values.update({name: incoming[name] for name in DEPARTMENT_ITEM_COLUMNS})
        item.suspensions, item.changed = incoming["suspensions"], True

    def _derived_state(self, change):
        """Move status forward, take a conclusion, recompute the due date; note a conclusion made now."""
        incoming, state = change.case, self.state
        if RANK.get(incoming["status"], -1) > RANK.get(state["status"], -1):
            if incoming["status"] == "concluded" and state["status"] != "concluded" and not self.from_township:
                self.concluded_by.append(change.event["actor"])
            state["status"] = incoming["status"]
        if incoming["concluded_at"]:  # kept: a conclusion once set (each column as SQL's COALESCE keeps it)
            self.conclusion = [old if old is not None else new for old, new in
                               zip(self.conclusion, (incoming["concluded_at"], incoming["concluded_on"]))]
        dues = [item.values["due_date"] for item in self.items.values() if item.values["due_date"]]
        if dues:
            self.due_date = max(dues)

    def write(self):
        """Write what the changes taken so far leave: the case, its items, checklist, rating and conflicts.

        The last change taken is read whole: a township's registration and
        checklist are written from it.
        """
        if self.case is None:
            _insert_cases([self])
            return
        if self.count:
            if self.from_township:
                _UPDATE_OWN.execute(*_bound(OWN_CASE_COLUMNS, self.last.case), self.case.id)
                self._write_checklist(self.last)
                _link_scans(self.case, self.last)
            self._write_items()
            _UPDATE_DERIVED.execute(self.state["status"], *self.conclusion, self.due_date, self.count, self.case.id)
        self._written()

    def _written(self):
        insert_all(self.conflicts[self.conflicts_written:])
        self.conflicts_written = len(self.conflicts)
        self.count, self.conclusion, self.due_date = 0, [None, None], None

    def _new_case(self):
        """The township's case new here (not inserted): registered as its first change has it, then as the later
        ones left it."""
        state, (concluded_at, concluded_on) = self.state, self.conclusion
        return Case(
            case_no=self.case_no, case_no_reversed=numbers.reversed_number(self.case_no), catalogue=self.catalogue.id,
            **{k: v for k, v in self.last.case.items() if k not in DERIVED_CASE_COLUMNS},
            status=state["status"], due_complete=state["due_complete"], due_date=self.due_date or state["due_date"],
            concluded_at=state["concluded_at"] or concluded_at, concluded_on=state["concluded_on"] or concluded_on,
            version=Case.version.default + self.count)

    def _write_items(self):
        for item in self.items.values():
            if item.changed:
                _UPDATE_DEPARTMENT.execute(*_bound(DEPARTMENT_FIELDS, item.values), item.id)
                if item.suspensions is not None:  # a department's change (acceptance leaves them)
                    _DELETE_SUSPENSIONS.execute(item.id)
                    insert_all([Suspension(item=item.id, **suspension) for suspension in item.suspensions])
                item.changed, item.suspensions = False, None

    def _write_checklist(self, change):
        """Of the checklist, the entries that differ from the held ones; the rating if new."""
        held = {material.code: material for material in CaseMaterial.of_case(self.case.id)}
        new = []
        for material in change.materials:
            current = held.get(material["code"])
            if current is None:
                new.append(CaseMaterial(case=self.case.id, **material))
            elif any(_plain(getattr(current, column.name)) != material[column.name] for column in MATERIAL_COLUMNS):
                _UPDATE_MATERIAL.execute(*_bound(MATERIAL_COLUMNS, material), self.case.id, material["code"])
        insert_all(new)
        if change.evaluation and not Evaluation.select().where(Evaluation.case == self.case.id).exists():
            insert_new(Evaluation(case=self.case.id, **change.evaluation))


def _insert_cases(runs):
    """Write the cases of ``runs``, new here, together: each table's new rows in one statement (SQLite:
    ``executemany``; PostgreSQL: multi-row INSERTs, not a round trip per row), the ids read back by key; the
    rows come in the order the runs would write them one by one."""
    if not runs:
        return
    cases = [run._new_case() for run in runs]
    insert_all(cases)
    ids = dict(Case.select(Case.case_no, Case.id).where(Case.case_no.in_([case.case_no for case in cases])).tuples())
    for run, case in zip(runs, cases):
        case.id = ids[case.case_no]
        case._dirty.clear()
        run.case = case
    namesearch.index_cases([(case.id, case.applicant_name, namesearch.agent_name(case.agent)) for case in cases])
    items = [(run.case.id, item) for run in runs for item in run.items.values()]
    insert_rows(CaseItem, [{**item.values, "case": case_id} for case_id, item in items])
    item_ids = {(case_id, code): item_id for item_id, case_id, code in CaseItem.select(
        CaseItem.id, CaseItem.case, CaseItem.matter_code).where(CaseItem.case.in_(list(ids.values()))).tuples()}
    for case_id, item in items:
        item.id, item.changed = item_ids[case_id, item.values["matter_code"]], False
    insert_rows(Suspension, [{**suspension, "item": item.id} for _case_id, item in items
                             for suspension in item.suspensions])
    insert_rows(CaseMaterial, [{**material, "case": run.case.id} for run in runs for material in run.last.materials])
    insert_all([Evaluation(case=run.case.id, **run.last.evaluation) for run in runs if run.last.evaluation])
    for run in runs:
        _link_scans(run.case, run.last)
        run._written()


class _Catalogue:
    """The catalogue versions and matters a batch names, each read once."""

    def __init__(self):
        self.versions, self.matters = {}, {}

    def version(self, name):
        if name not in self.versions:
            self.versions[name] = _VERSION_BY_NAME.first(name)
        return self.versions[name]

    def matter(self, version_id, code):
        if (version_id, code) not in self.matters:
            self.matters[version_id, code] = _MATTER_BY_CODE.first(version_id, code)
        return self.matters[version_id, code]


def _link_scans(case, change):
    """The case's scans as the township holds them; each file the hub lacks is awaited from the township."""
    for scan in change.scans or ():
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


def _conflicts(action, local, incoming):
    """Whether this side already holds a different department decision for the item."""
    decided = local["status"] in ("approved", "denied")
    if action == "result":
        return decided and (local["status"], local["result_no"]) != (incoming["status"], incoming["result_no"])
    if action == "suspend":
        return decided or (local["status"] == "suspended" and local["suspended_since"] != incoming["suspended_since"])
    return decided  # resume


def _plain(value):
    """A stored value as a received payload gives it (moments as text)."""
    return str(value) if isinstance(value, datetime) else value


def _bound(columns, values):
    return [column.db_value(values[column.name]) for column in columns]


OWN_CASE_COLUMNS = [column for column in CASE_COLUMNS if column.name not in DERIVED_CASE_COLUMNS]
_UPDATE_OWN = Prepared(lambda *values: Case.update(dict(zip(OWN_CASE_COLUMNS, values))).where(Case.id == values[-1]),
                       arity=len(OWN_CASE_COLUMNS) + 1)
_UPDATE_MATERIAL = Prepared(lambda *values: CaseMaterial.update(dict(zip(MATERIAL_COLUMNS, values))).where(
    (CaseMaterial.case == values[-2]) & (CaseMaterial.code == values[-1])), arity=len(MATERIAL_COLUMNS) + 2)
DEPARTMENT_FIELDS = [getattr(CaseItem, name) for name in DEPARTMENT_ITEM_COLUMNS]
_VERSION_BY_NAME = Prepared(lambda name: CatalogueVersion.select().where(CatalogueVersion.version == name)
                            .order_by(CatalogueVersion.id.desc()).limit(1))
_MATTER_BY_CODE = Prepared(lambda version, code: MatterRow.select().where(
    (MatterRow.catalogue == version) & (MatterRow.code == code)))
_UPDATE_DEPARTMENT = Prepared(lambda *values: CaseItem.update(dict(zip(DEPARTMENT_FIELDS, values))).where(
    CaseItem.id == values[-1]), arity=len(DEPARTMENT_FIELDS) + 1)
_DELETE_SUSPENSIONS = Prepared(lambda item: Suspension.delete().where(Suspension.item == item))
_UPDATE_DERIVED = Prepared(lambda status, concluded_at, concluded_on, due_date, changes, case_id: Case.update({
    Case.status: status, Case.version: Case.version + changes,
    Case.concluded_at: fn.COALESCE(Case.concluded_at, concluded_at),
    Case.concluded_on: fn.COALESCE(Case.concluded_on, concluded_on),
    Case.due_date: fn.COALESCE(due_date, Case.due_date)}).where(Case.id == case_id))


def _detail(event):
    try:
        detail = json.loads(event["detail"]) if event["detail"] else {}
    except ValueError:
        raise BatchInvalid(f"事件内容（detail）不是有效的 JSON：{event['detail'][:40]}") from None
    return detail if isinstance(detail, dict) else {}
