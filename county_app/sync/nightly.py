"""The scheduled exchange: the nightly run, its retries while the hub cannot be reached, a run missed while off.

No scheduler here: ``jobs.py`` calls these and schedules what they ask for
(a retry after the seconds ``scheduled_run`` returns). A node syncs by
schedule when it is a township whose sync is set up (hub address, secret and
node code: ``transport.missing_settings``); that is read at each run, so setting
them later needs no restart. Every run goes through
``client.run_once`` and its lock, so a scheduled run never overlaps one
started by the 立即同步 button or ``sync run``: it simply gives way.
"""
import logging
from datetime import datetime, timedelta, timezone

from .. import settings
from ..crontab import crontab_trigger
from ..db import db
from . import client, transport
from .advice import advice
from .errors import SyncBusy
from .records import SyncRun

log = logging.getLogger(__name__)

BACKOFF = (60, 300, 900)  # seconds before the 1st, 2nd and 3rd retry of a run that could not reach the hub
SCHEDULED, MISSED, RETRY = "system:scheduled", "system:missed", "system:retry-"  # the runs' actors
LOOK_BACK = timedelta(days=8)  # how far back a missed scheduled time is looked for (a weekly schedule)
MAX_FIRES = 20_000  # fire times walked while looking back: a schedule of every minute stays bounded


def wanted():
    """Whether this node syncs by schedule: a township whose sync is set up (call connected)."""
    return settings.get("node.role") != "hub" and not transport.missing_settings()


def scheduled_run(data_dir, attempt=0, actor=None):
    """One scheduled run (``attempt`` 0, or the n-th retry); the seconds to wait before a retry, or None.

    A retry is asked for only while the trouble is one that may pass (the
    hub unreachable: ``advice.retry``) and fewer than ``len(BACKOFF)``
    retries were made; after the last, the failed run's record is the status
    the sync page shows until the next scheduled time.
    """
    with db.connection_context():
        if not wanted():
            return None
    actor = actor or (SCHEDULED if attempt == 0 else f"{RETRY}{attempt}")
    try:
        report = client.run_once(data_dir, actor)
    except SyncBusy:
        log.info("scheduled sync skipped: another run is in progress")
        return None
    except Exception:  # the scheduler's thread must survive; the run's record stays unfinished
        log.exception("the scheduled sync failed")
        return None
    if not report.error:
        log.info("scheduled sync: %d up, %d down", report.pushed, report.pulled)
        return None
    log.warning("scheduled sync failed (%s): %s", report.error_kind, report.error)
    if advice(report.error_kind).retry and attempt < len(BACKOFF):
        return BACKOFF[attempt]
    return None


def run_if_missed(data_dir, now=None):
    """After a start: the scheduled run, if none succeeded since the schedule's previous time; as scheduled_run."""
    with db.connection_context():
        if not wanted() or not missed(now):
            return None
    return scheduled_run(data_dir, actor=MISSED)


def missed(now=None):
    """Whether no run has succeeded since ``sync.cron`` last fired (before ``now``); call connected."""
    now = now or datetime.now(timezone.utc)
    try:
        fired = previous_fire(settings.get("sync.cron"), now)
    except ValueError:
        return False  # an unreadable schedule: jobs.py logs it and uses the default
    if fired is None:
        return False
    return not (SyncRun.select().where(SyncRun.started_at >= fired.astimezone(timezone.utc),
                                       SyncRun.ended_at.is_null(False), SyncRun.error == "").exists())


def previous_fire(cron_text, now):
    """The last time crontab ``cron_text`` fired at or before ``now`` (aware), within LOOK_BACK; None if none."""
    trigger = crontab_trigger(cron_text)
    last, fire = None, trigger.get_next_fire_time(None, now - LOOK_BACK)
    for _ in range(MAX_FIRES):
        if fire is None or fire > now:
            break
        last, fire = fire, trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last
