"""What each side holds, day by day, so that the county can prove nothing went missing (docs/sync.md, Reconciliation).

Both sides compute the same figures the same way (``footprints``): for each
day, every case registered that day or with events recorded that day, with
its **footprint** of the day, ``(registered that day: 1/0, events recorded
that day)``. A day's summary is its number of cases registered, its number
of events and a SHA-256 over the sorted ``case_no:registered:events`` lines.
Days are the centre's local dates, as everywhere in the program: a case's
``registered_on``, an event's ``at`` in local time.

Every event counts: a case's history at the hub is exactly what both sides
hold (a look or a print at the hub is audited instead, ``intake.events.note``).

At the end of a run, after push and pull, a township ``send``s the summary
of its last ``DAYS`` days; the hub answers which days differ, and for each
the township sends its footprints of that day, which the hub compares case
by case (hub/reconciliation.py). A failure here never fails the run: it is
reported as the run's reconciliation (``SyncRun.reconcile``).
"""
import hashlib
import logging
from datetime import date, datetime, time, timedelta, timezone

from ..db import db
from ..intake.records import Case, CaseEvent
from ..models import as_utc
from . import batches, outbox
from .errors import SyncFailed
from .records import SyncOutbox

RECONCILE_PATH, RECONCILE_DAY_PATH = "/api/v1/sync/reconcile", "/api/v1/sync/reconcile/day"
DAYS = 31  # the days each run reconciles, today included
MAX_DAY_CASES = 20_000  # footprints in one day's list: a busy township registers 300 cases a day
MAX_PENDING = 5_000  # case numbers with changes in transit, sent with a day's list
log = logging.getLogger("county_app.sync")


def after_run(hub):
    """``send`` after a complete exchange, its outcome in words; it never raises: a reconciliation that fails
    is reported as such and leaves the run as it went."""
    try:
        return described(send(hub))
    except SyncFailed as exc:
        return f"核对未完成：{exc}"
    except Exception:
        log.exception("reconciliation failed")
        return "核对未完成：本机计算核对数据时出错（详见日志），同步本身不受影响"


def days_ending(today):
    """The ``DAYS`` local dates that end with ``today``, oldest first."""
    return [today - timedelta(days=back) for back in range(DAYS - 1, -1, -1)]


def footprints(days, prefix=""):
    """``{day: {case_no: [registered, events]}}`` for the given ``days``, of the cases whose number begins with
    ``prefix`` (a township's code at the hub; "" at a township, where every case is its own)."""
    found = {day: {} for day in days}
    if not days:
        return found
    first, last = min(days), max(days)
    cases = Case.select(Case.case_no, Case.registered_on).where(Case.registered_on.between(first, last))
    for case_no, day in _of(cases, prefix).tuples().iterator():
        if _as_date(day) in found:
            found[_as_date(day)].setdefault(case_no, [0, 0])[0] = 1
    # a day's margin on each side: the stored moment is UTC, the day is local; bucketed exactly below
    start = datetime.combine(first - timedelta(days=1), time(), timezone.utc)
    end = datetime.combine(last + timedelta(days=2), time(), timezone.utc)
    events = (CaseEvent.select(Case.case_no, CaseEvent.at).join(Case)
              .where((CaseEvent.at >= start) & (CaseEvent.at < end)))
    day_of = _LocalDays()
    for case_no, moment in _raw(_of(events, prefix)):  # a night's 100,000 events: no model conversion per row
        day = day_of(moment)
        if day in found:
            found[day].setdefault(case_no, [0, 0])[1] += 1
    return found


def _raw(query):
    """The rows of ``query`` as the driver gives them, read in pieces."""
    cursor = db.execute_sql(*query.sql())
    while rows := cursor.fetchmany(5000):
        yield from rows


class _LocalDays:
    """``local_day`` of stored moments, remembered by the minute (events come many a minute)."""

    def __init__(self):
        self.seen = {}

    def __call__(self, moment):
        key = moment[:16] if isinstance(moment, str) else moment.replace(second=0, microsecond=0)
        day = self.seen.get(key)
        if day is None:
            day = self.seen[key] = local_day(moment)
        return day


def _of(query, prefix):
    return query.where(Case.case_no.startswith(prefix)) if prefix else query


def _as_date(value):
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def local_day(moment):
    """The local date of a stored moment (a datetime, or SQLite's text of one)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return as_utc(moment).astimezone().date()


def summary(day, entries):
    """``{"day", "cases", "events", "digest"}`` of one day's footprints ``{case_no: [registered, events]}``."""
    return {"day": day.isoformat(), "cases": sum(r for r, _n in entries.values()),
            "events": sum(n for _r, n in entries.values()), "digest": digest(entries)}


def digest(entries):
    """Hex SHA-256 over the sorted ``case_no:registered:events`` lines of one day's footprints."""
    sha = hashlib.sha256()
    for case_no in sorted(entries):
        registered, events = entries[case_no]
        sha.update(f"{case_no}:{registered}:{events}\n".encode("utf-8"))
    return sha.hexdigest()


def pending_cases(node):
    """The numbers of the cases whose changes wait in ``node``'s outbox (``outbox.UP`` at a township), at most
    MAX_PENDING of them (a difference on another is then shown as real, and the next run settles it)."""
    query = (SyncOutbox.select(SyncOutbox.case_no).where(SyncOutbox.node == node).distinct()
             .limit(MAX_PENDING))
    return [case_no for (case_no,) in query.tuples()]


def for_file(node, today=None):
    """What a township's offline file carries to reconcile (``files``): the summaries of its last DAYS days
    and the footprints of each, the hub comparing the days that differ at import (``hub/reconciliation.py``
    ``from_file``). Nothing is in transit at the township: the file carries its whole outbox."""
    days = days_ending(today or date.today())
    held = footprints(days)
    return {"node": node, "days": [summary(day, held[day]) for day in days],
            "lists": {day.isoformat(): [[no, r, n] for no, (r, n) in sorted(held[day].items())] for day in days},
            "down_applied": outbox.mark("down.applied")}


def send(hub, today=None):
    """Reconcile this township's last DAYS days with ``hub`` (a ``transport.Hub``); the hub's answer to the
    last request, ``{"days", "differing", "in_transit"}`` (days counted). SyncFailed when refused."""
    days = days_ending(today or date.today())
    held = footprints(days)
    answer = _post(hub, RECONCILE_PATH, {"node": hub.node, "days": [summary(day, held[day]) for day in days]})
    differing = answer.get("differ") if isinstance(answer, dict) else None
    if not isinstance(differing, list) or not set(differing) <= {day.isoformat() for day in days}:
        raise SyncFailed("县级汇聚中心对核对请求的应答格式不对", "bad_answer")
    outcome = {"days": len(days), "differing": 0, "in_transit": 0}
    for name in differing:
        day = date.fromisoformat(name)
        held = footprints([day])[day]  # anew: a change may have come in since the summary
        pending = pending_cases(outbox.UP)
        listed = _post(hub, RECONCILE_DAY_PATH, {
            "node": hub.node, "day": name, "cases": [[no, r, n] for no, (r, n) in sorted(held.items())],
            "pending": pending, "down_applied": outbox.mark("down.applied")})
        state = listed.get("state") if isinstance(listed, dict) else None
        outcome["differing"] += state == "differ"
        outcome["in_transit"] += state == "in_transit"
    return outcome


def _post(hub, path, document):
    _status, answer = hub.post(path, batches.encode(document))
    return answer


def described(outcome):
    """A run's reconciliation in words (``SyncRun.reconcile``, the CLI's line)."""
    if outcome["differing"]:
        return f"核对最近 {outcome['days']} 天：{outcome['differing']} 天不一致，详见县级汇聚中心的核对页"
    if outcome["in_transit"]:
        return f"核对最近 {outcome['days']} 天：一致（{outcome['in_transit']} 天有同步期间新发生的变更，下次同步后核对）"
    return f"核对最近 {outcome['days']} 天：一致"
