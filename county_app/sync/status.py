"""Where the exchange stands, as the sync pages show it (views/sync.py); no Flask here.

``township()`` gathers a township's side: its recent runs (each failed one
with what to do, ``advice``), what waits to go up, the open conflicts.
``hub()`` gathers the county's: each township's last contact, what waits to
go down to it and the latest requests refused for it (``record_refusal``,
called by the sync API), the items overdue across townships by department,
the open conflicts. Both read bounded amounts: the newest rows only.
"""
from dataclasses import dataclass, field
from datetime import date

from peewee import fn

from .. import audit, settings
from ..db import db
from ..intake.records import Case, CaseItem, Scan
from ..models import utcnow
from ..record_words import actor_word
from . import conflicts, transport
from .advice import advice
from .nightly import MISSED, RETRY, SCHEDULED, BACKOFF
from .outbox import UP
from .records import SyncConflict, SyncNode, SyncOutbox, SyncRefusal, SyncRun, SyncScan

RECENT_RUNS = 20
REFUSALS_KEPT = 20  # per township: the hub's page shows the newest few, the log keeps them all
REFUSALS_SHOWN = 3


@dataclass
class Run:
    record: SyncRun
    missing: list = None  # labels of the settings sync lacks now (transport.missing_settings), read when not given
    names: dict = field(default_factory=dict)  # {username: display name} of the users who pressed 立即同步

    @property
    def finished(self):
        return self.record.ended_at is not None

    @property
    def ok(self):
        return self.finished and not self.record.error

    @property
    def advice(self):
        if not self.finished:
            return None
        if not self.record.error:
            return None
        return advice(self.record.error_kind, transport.missing_settings() if self.missing is None else self.missing)

    @property
    def how(self):
        """How the run was started, in words."""
        actor = self.record.actor
        if actor == SCHEDULED:
            return "定时同步"
        if actor == MISSED:
            return "开机后补做"
        if actor.startswith(RETRY):
            return f"自动重试（第 {actor[len(RETRY):]} 次）"
        if actor.startswith("cli"):
            return actor_word(actor)  # 命令行（NAME）: sync run
        return f"{self.names.get(actor) or actor} 点“立即同步”"


@dataclass
class Township:
    configured: dict  # "sync.url" → its value, "sync.secret" → set or not, "node" → the code used
    runs: list  # Run, newest first
    backlog_cases: int
    backlog_events: int
    backlog_scans: int  # scan files waiting to go up
    backlog_scan_bytes: int
    conflicts: list  # conflicts.Shown
    schedule: str
    missing: list  # labels of the settings sync lacks (transport.missing_settings): no automatic sync while any
    names: dict  # {username: display name} of the users who pressed 立即同步 (Run.how)

    @property
    def last_success(self):
        return next((run for run in self.runs if run.ok), None)

    @property
    def failing(self):
        """The finished runs that failed since the last success (newest first): the page's status."""
        failed = []
        for run in self.runs:
            if run.ok:
                break
            if run.finished:
                failed.append(run)
        return failed

    @property
    def gave_up(self):
        """Whether the scheduler retried as often as it does and stopped until the next scheduled time."""
        failing = self.failing
        return bool(failing) and failing[0].record.actor == f"{RETRY}{len(BACKOFF)}"


def township(also_named=()):
    """The Township status of this node (call connected); ``also_named``: usernames whose display names are wanted."""
    waiting = SyncOutbox.select().where(SyncOutbox.node == UP)
    scans = SyncScan.select().join(Scan, on=(Scan.sha256 == SyncScan.sha256)).where(SyncScan.node == UP)
    records = list(SyncRun.select().order_by(SyncRun.id.desc()).limit(RECENT_RUNS))
    missing = transport.missing_settings()
    names = audit.display_names([r.actor for r in records] + list(also_named))
    return Township(
        configured={"sync.url": settings.get("sync.url"), "sync.secret": bool(settings.get("sync.secret")),
                    "node": transport.node_code()},
        runs=[Run(r, missing, names) for r in records],
        backlog_cases=waiting.select(fn.COUNT(SyncOutbox.case_no.distinct())).scalar() or 0,
        backlog_events=waiting.count(),
        backlog_scans=scans.count(),
        backlog_scan_bytes=scans.select(fn.SUM(Scan.size)).scalar() or 0,
        conflicts=conflicts.listed(),
        schedule=settings.shown("sync.cron"),
        missing=missing,
        names=names,
    )


@dataclass
class Node:
    record: SyncNode
    backlog: int  # downstream changes waiting for it
    refusals: list  # SyncRefusal, newest first
    conflicts: int  # open conflicts of its cases


@dataclass
class Hub:
    nodes: list
    overdue: list  # (department, [(node code, items)], total), most overdue first
    conflicts: list
    today: date = field(default_factory=date.today)


def hub(today=None):
    """The Hub status of this node (call connected)."""
    today = today or date.today()
    backlog = dict(SyncOutbox.select(SyncOutbox.node, fn.COUNT(SyncOutbox.id)).where(SyncOutbox.node != UP)
                   .group_by(SyncOutbox.node).tuples())
    nodes = []
    for node in SyncNode.select().order_by(SyncNode.code):
        refusals = list(SyncRefusal.select().where(SyncRefusal.node == node.code)
                        .order_by(SyncRefusal.id.desc()).limit(REFUSALS_SHOWN))
        open_conflicts = (SyncConflict.select().where(SyncConflict.resolved_at.is_null()
                                                      & SyncConflict.case_no.startswith(node.code)).count())
        nodes.append(Node(node, backlog.get(node.code, 0), refusals, open_conflicts))
    return Hub(nodes=nodes, overdue=overdue_by_department(today), conflicts=conflicts.listed(), today=today)


def overdue_by_department(today):
    """Items past their due date in accepted cases, counted by department and township."""
    township = fn.SUBSTR(Case.case_no, 1, 12)
    query = (CaseItem.select(CaseItem.department, township.alias("node"), fn.COUNT(CaseItem.id).alias("items"))
             .join(Case).where((CaseItem.status == "pending") & (Case.status == "accepted")
                               & (CaseItem.due_date < today))
             .group_by(CaseItem.department, township).tuples())
    by_department = {}
    for department, node, items in query:
        by_department.setdefault(department, []).append((node, items))
    return sorted(((department, sorted(rows), sum(n for _, n in rows)) for department, rows in by_department.items()),
                  key=lambda entry: (-entry[2], entry[0]))


def record_refusal(node_code, status, code, message):
    """Keep a refused request of a registered township for the hub's page (the newest REFUSALS_KEPT)."""
    node_code = str(node_code or "")[:12]
    with db.atomic():
        if not SyncNode.select().where(SyncNode.code == node_code).exists():
            return  # an unknown sender is only logged: it must not fill the database
        SyncRefusal.create(node=node_code, at=utcnow(), status=status, code=code[:32], message=message[:1000])
        keep = (SyncRefusal.select(SyncRefusal.id).where(SyncRefusal.node == node_code)
                .order_by(SyncRefusal.id.desc()).limit(REFUSALS_KEPT))
        SyncRefusal.delete().where((SyncRefusal.node == node_code) & SyncRefusal.id.not_in(keep)).execute()
