"""Reconciliation at the hub: each township's figures of a day beside the hub's, and the cases that differ.

A township reports the summaries of its last days (``take_summary``, after
its run's push and pull); the hub computes the same over the cases it holds
from that township (``sync.reconcile.footprints``), keeps both side by side
(``SyncReconciliation``, one row per township and day, the last
``reconcile.DAYS`` days) and answers which days differ. For such a day the
township sends its footprints (``take_day``), and the hub keeps the cases
that differ: held only by the township, only by the hub, or with other
figures. A difference on a case whose changes are still on their way (in
the township's outbox, or in the hub's for the township past what it
applied) is marked in transit: the next run settles it. ``overview`` and
``days_of`` give the page (views/sync.py). Everything a request carries is
checked before anything is stored: a refusal changes nothing.
"""
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

from ..db import db, refresh_statistics
from ..intake.records import Case, CaseEvent
from ..models import utcnow
from ..sync import reconcile
from ..sync.errors import SyncRefused
from ..sync.records import SyncNode, SyncOutbox, SyncReconciliation

KEPT = 300  # differences kept per day (the real ones first); the page says how many there were in all
_DIGEST = re.compile(r"[0-9a-f]{64}")
_LARGE = 10 ** 9


def receive(code, path, document):
    """The answer to township ``code``'s signed reconciliation request at ``path`` (its JSON ``document``)."""
    if path == reconcile.RECONCILE_PATH:
        return take_summary(code, document)
    return take_day(code, document)


def take_summary(code, document):
    """Keep township ``code``'s summaries of its days beside the hub's; ``{"differ": [days that differ]}``."""
    reported = _summaries(code, document)
    days = [day for day, _figures in reported]
    refresh_statistics(Case, CaseEvent)  # a night's backlog may just have arrived (db.refresh_statistics)
    held = reconcile.footprints(days, prefix=code)
    now, differ = utcnow(), []
    with db.atomic():
        SyncReconciliation.delete().where((SyncReconciliation.node == code)
                                          & ((SyncReconciliation.day < min(days))
                                             | SyncReconciliation.day.in_(days))).execute()
        for day, theirs in reported:
            mine = reconcile.summary(day, held[day])
            SyncReconciliation.create(node=code, day=day, reported_at=now, **_columns("township", theirs),
                                      **_columns("hub", mine))
            if _figures(theirs) != _figures(mine):
                differ.append(day.isoformat())
    return {"differ": differ}


def from_file(code, document):
    """Reconcile township ``code`` from its offline file's ``reconcile.for_file`` document, as a network run
    does in two requests; the outcome as ``reconcile.described`` takes it. SyncRefused when malformed."""
    lists = document.get("lists") if isinstance(document, dict) else None
    if not isinstance(lists, dict):
        raise _malformed("同步文件的核对数据应为 {node, days, lists, down_applied}")
    outcome = {"days": 0, "differing": 0, "in_transit": 0}
    differing = take_summary(code, document)["differ"]
    outcome["days"] = len(document["days"])
    for day in differing:
        state = take_day(code, {"node": code, "day": day, "cases": lists.get(day), "pending": [],
                                "down_applied": document.get("down_applied")})["state"]
        outcome["differing"] += state == "differ"
        outcome["in_transit"] += state == "in_transit"
    return outcome


def take_day(code, document):
    """Compare township ``code``'s footprints of one day with the hub's, and keep the differences;
    ``{"state": "same" | "in_transit" | "differ", "differences": n}``."""
    day, listed, pending, down_applied = _day_list(code, document)
    with db.atomic():
        row = SyncReconciliation.get_or_none((SyncReconciliation.node == code) & (SyncReconciliation.day == day))
        if row is None:
            raise SyncRefused(409, "not_reported", f"{day} 这一天的汇总尚未报送（或已超出最近 {reconcile.DAYS} 天），"
                                                   "请先报送各天的汇总，未做任何更改")
        held = reconcile.footprints([day], prefix=code)[day]
        in_transit = set(pending) | _waiting_down(code, down_applied)
        differences = compare(listed, held, in_transit)
        SyncReconciliation.update(
            listed_at=utcnow(), differences=json.dumps(differences[:KEPT], ensure_ascii=False),
            differences_total=len(differences),
            **_columns("township", reconcile.summary(day, listed)), **_columns("hub", reconcile.summary(day, held)),
        ).where(SyncReconciliation.id == row.id).execute()
        row = SyncReconciliation.get_by_id(row.id)
    return {"state": Day(row).state, "differences": len(differences)}


def compare(theirs, mine, in_transit=frozenset()):
    """The cases whose footprints differ, ``[{"case_no", "township", "hub", "in_transit"}]`` (a side's
    ``[registered, events]``, or None when it lacks the case): the real differences first, by case number."""
    found = [{"case_no": case_no, "township": theirs.get(case_no), "hub": mine.get(case_no),
              "in_transit": case_no in in_transit}
             for case_no in sorted(set(theirs) | set(mine)) if theirs.get(case_no) != mine.get(case_no)]
    return sorted(found, key=lambda difference: difference["in_transit"])


def _waiting_down(code, applied):
    """The cases of the hub's changes for ``code`` past ``applied`` (what the township has taken)."""
    query = (SyncOutbox.select(SyncOutbox.case_no).where((SyncOutbox.node == code) & (SyncOutbox.seq > applied))
             .distinct().limit(reconcile.MAX_PENDING))
    return {case_no for (case_no,) in query.tuples()}


def _columns(side, figures):
    return {f"{side}_cases": figures["cases"], f"{side}_events": figures["events"],
            f"{side}_digest": figures["digest"]}


def _figures(summary):
    return summary["cases"], summary["events"], summary["digest"]


# ----------------------------------------------------------------------------- what a request must be


def _summaries(code, document):
    if not isinstance(document, dict) or document.get("node") != code or not isinstance(document.get("days"), list):
        raise _malformed(f"核对请求应为 {{node, days}}，node 为 {code}")
    days = document["days"]
    if len(days) > reconcile.DAYS:
        raise SyncRefused(422, "too_many", f"核对请求最多含最近 {reconcile.DAYS} 天，这个请求有 {len(days)} 天，"
                                           "已拒绝，未做任何更改")
    reported = []
    for index, entry in enumerate(days, 1):
        if not (isinstance(entry, dict) and _count(entry.get("cases")) and _count(entry.get("events"))
                and isinstance(entry.get("digest"), str) and _DIGEST.fullmatch(entry["digest"])):
            raise _malformed(f"第 {index} 天应为 {{day, cases, events, digest}}：cases、events 为非负整数，"
                             "digest 为 64 位小写十六进制")
        reported.append((_day(entry.get("day"), f"第 {index} 天的 day"), entry))
    seen = [day for day, _entry in reported]
    if not seen or len(set(seen)) != len(seen) or max(seen) - min(seen) >= timedelta(days=reconcile.DAYS):
        raise _malformed(f"days 应为 1 至 {reconcile.DAYS} 个不重复的日期，前后相距不超过 {reconcile.DAYS} 天")
    return reported


def _day_list(code, document):
    if not isinstance(document, dict) or document.get("node") != code:
        raise _malformed(f"明细请求应为 {{node, day, cases, pending, down_applied}}，node 为 {code}")
    day = _day(document.get("day"), "day")
    cases, pending = document.get("cases"), document.get("pending")
    if not isinstance(cases, list) or not isinstance(pending, list):
        raise _malformed("cases 和 pending 应为列表")
    if len(cases) > reconcile.MAX_DAY_CASES or len(pending) > reconcile.MAX_PENDING:
        raise SyncRefused(422, "too_many", f"一天的明细最多 {reconcile.MAX_DAY_CASES} 件办件、在途办件最多 "
                                           f"{reconcile.MAX_PENDING} 件，这个请求超出了，已拒绝，未做任何更改")
    listed = {}
    for index, entry in enumerate(cases, 1):
        if not (isinstance(entry, list) and len(entry) == 3 and _case_no(entry[0], code)
                and entry[1] in (0, 1) and not isinstance(entry[1], bool) and _count(entry[2])
                and entry[0] not in listed):
            raise _malformed(f"cases 第 {index} 项应为 [本中心的办件编号（不重复）, 0 或 1, 非负整数]")
        listed[entry[0]] = [entry[1], entry[2]]
    if not all(_case_no(case_no, code) for case_no in pending):
        raise _malformed("pending 应为本中心的办件编号")
    if not _count(document.get("down_applied")):
        raise _malformed("down_applied 应为非负整数")
    return day, listed, pending, document["down_applied"]


def _day(value, name):
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise _malformed(f"{name} 应为 YYYY-MM-DD 形式的日期")


def _case_no(value, code):
    return isinstance(value, str) and 0 < len(value) <= 32 and value.startswith(code)


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _LARGE


def _malformed(message):
    return SyncRefused(400, "malformed", f"核对请求格式不对：{message}；已拒绝，未做任何更改")


# ----------------------------------------------------------------------------- the page


@dataclass
class Day:
    """One township's day as the page shows it."""
    record: SyncReconciliation

    @property
    def state(self):
        """"same" (一致), "in_transit" (every difference on its way), "differ" (不一致)."""
        r = self.record
        if (r.township_cases, r.township_events, r.township_digest) == (r.hub_cases, r.hub_events, r.hub_digest):
            return "same"
        if r.listed_at is not None and not any(not d["in_transit"] for d in self.differences):
            return "in_transit"
        return "differ"

    @property
    def differences(self):
        return json.loads(self.record.differences)


@dataclass
class Township:
    code: str
    name: str
    reported_at: object  # the last report, or None
    days: int  # days reported
    differing: int  # of them, 不一致


def overview():
    """Every registered township with its last report and how many of its days differ."""
    rows = {}
    for record in SyncReconciliation.select().order_by(SyncReconciliation.node, SyncReconciliation.day):
        rows.setdefault(record.node, []).append(Day(record))
    out = []
    for node in SyncNode.select(SyncNode.code, SyncNode.name).order_by(SyncNode.code):
        days = rows.get(node.code, [])
        out.append(Township(node.code, node.name, max((d.record.reported_at for d in days), default=None),
                            len(days), sum(d.state == "differ" for d in days)))
    return out


def days_of(code):
    """Township ``code``'s reported days (``Day``), newest first."""
    return [Day(record) for record in SyncReconciliation.select().where(SyncReconciliation.node == code)
            .order_by(SyncReconciliation.day.desc())]

