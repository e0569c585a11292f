"""Background jobs. The scheduler starts only from ``serve`` (``Background``), never from create_app or tests.

APScheduler is imported when the scheduler is built, not with this module:
it and what it brings (asyncio, concurrent.futures) are 14 MB and a good part
of the program's start (bench/RESULTS.md, the program's start).
"""
import logging
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import maintenance, settings
from .operations import runner
from .db import db, is_postgresql

log = logging.getLogger(__name__)

MAINTENANCE_JOB = "maintenance"
MAINTENANCE_AFTER_START_JOB = "maintenance-after-start"
BACKUP_JOB = "backup"
BACKUP_AFTER_START_JOB = "backup-after-start"
MISFIRE_GRACE = 3600  # seconds: a run delayed by a busy or sleeping PC still happens within the hour
AFTER_START = timedelta(minutes=10)  # a window PC switched off at night is maintained once a day this way
SCHEDULES_JOB = "schedules"
SCHEDULES_EVERY = 30  # seconds: a schedule changed on the settings page (or by `config set`) applies this soon
SYNC_JOB = "sync"
SYNC_AFTER_START_JOB = "sync-after-start"
SYNC_RETRY_JOB = "sync-retry"
SYNC_AFTER_START = timedelta(minutes=2)  # a township PC off at the sync time exchanges soon after it starts
# job id → the setting of its time
SCHEDULED = {MAINTENANCE_JOB: "maintenance.cron", BACKUP_JOB: "backup.cron", SYNC_JOB: "sync.cron"}
# Seconds from the server listening to the scheduler's and the scan checker's start: the first pages come first.
BACKGROUND_DELAY = 3.0


def build(app):
    """The scheduler for ``app``'s node with its jobs, not started; schedules are read from settings now."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from .crontab import TIMEZONE

    scheduler = BackgroundScheduler(timezone=TIMEZONE)
    schedules = dict(_read_schedules())
    maintenance_cron, backup_cron = schedules[MAINTENANCE_JOB], schedules[BACKUP_JOB]
    data_dir = Path(app.config["DATA_DIR"])
    scheduler.add_job(maintenance.run_maintenance, _cron_trigger("maintenance.cron", maintenance_cron),
                      args=[data_dir], id=MAINTENANCE_JOB, name="夜间维护",
                      coalesce=True, max_instances=1, misfire_grace_time=MISFIRE_GRACE, replace_existing=True)
    scheduler.add_job(maintenance.run_maintenance, "date", run_date=datetime.now(timezone.utc) + AFTER_START,
                      args=[data_dir], id=MAINTENANCE_AFTER_START_JOB, name="启动后维护",
                      misfire_grace_time=MISFIRE_GRACE)
    scheduler.add_job(refresh_schedules, "interval", seconds=SCHEDULES_EVERY, args=[scheduler, dict(schedules)],
                      id=SCHEDULES_JOB, name="读取自动任务时间", coalesce=True, max_instances=1)
    if not _is_hub():  # a township exchanges with its hub; whether sync.url is set is read at each run
        scheduler.add_job(scheduled_sync, _cron_trigger("sync.cron", schedules[SYNC_JOB]),
                          args=[scheduler, data_dir], id=SYNC_JOB, name="夜间同步", coalesce=True, max_instances=1,
                          misfire_grace_time=MISFIRE_GRACE, replace_existing=True)
        scheduler.add_job(sync_if_missed, "date", run_date=datetime.now(timezone.utc) + SYNC_AFTER_START,
                          args=[scheduler, data_dir], id=SYNC_AFTER_START_JOB,
                          name="启动后同步（错过了夜间同步时）", misfire_grace_time=MISFIRE_GRACE)
    if is_postgresql():
        return scheduler  # a hub on PostgreSQL is backed up with pg_dump (README), not by this program
    # The backup is taken before maintenance deletes anything (02:15 before 02:30 by default).
    scheduler.add_job(runner.scheduled_backup, _cron_trigger("backup.cron", backup_cron), args=[data_dir],
                      id=BACKUP_JOB, name="夜间备份", coalesce=True, max_instances=1,
                      misfire_grace_time=MISFIRE_GRACE, replace_existing=True)
    scheduler.add_job(runner.backup_if_stale, "date", run_date=datetime.now(timezone.utc) + AFTER_START,
                      args=[data_dir], id=BACKUP_AFTER_START_JOB, name="启动后备份（当天还没有备份时）",
                      misfire_grace_time=MISFIRE_GRACE)
    return scheduler


def scheduled_sync(scheduler, data_dir, attempt=0):
    """The sync job (and each of its retries): one run, and a retry scheduled when the hub could not be reached."""
    from .sync import nightly  # with the scheduler, not at start (it reads crontab text: APScheduler)

    _retry_later(scheduler, data_dir, attempt, nightly.scheduled_run(data_dir, attempt))


def sync_if_missed(scheduler, data_dir):
    """After a start: the sync the PC missed while it was off, if any."""
    from .sync import nightly

    _retry_later(scheduler, data_dir, 0, nightly.run_if_missed(data_dir))


def _retry_later(scheduler, data_dir, attempt, delay):
    if delay is None:
        return
    scheduler.add_job(scheduled_sync, "date", run_date=datetime.now(timezone.utc) + timedelta(seconds=delay),
                      args=[scheduler, data_dir, attempt + 1], id=SYNC_RETRY_JOB, name=f"同步重试（第 {attempt + 1} 次）",
                      misfire_grace_time=MISFIRE_GRACE, replace_existing=True)


def refresh_schedules(scheduler, seen):
    """Reschedule each job whose time setting changed since ``seen`` (job id → crontab text, updated here).

    The settings are read from the database, so a change saved by the
    settings page or by another process (``config set``) takes effect without
    a restart.
    """
    for job_id, text in _read_schedules():
        if seen.get(job_id) != text and scheduler.get_job(job_id) is not None:  # a hub has no sync job
            scheduler.reschedule_job(job_id, trigger=_cron_trigger(SCHEDULED[job_id], text))
            seen[job_id] = text
            log.info("job %s rescheduled to %r", job_id, text)


def _is_hub():
    with db.connection_context():
        return settings.get("node.role") == "hub"


def _read_schedules():
    with db.connection_context():
        return [(job_id, settings.get(key)) for job_id, key in SCHEDULED.items()]


def start(app):
    """Start the scheduler for ``app``'s node and return it (``serve`` shuts it down)."""
    scheduler = build(app)
    scheduler.start()
    return scheduler


class Background:
    """What ``serve`` runs beside the server: the scheduler and the scan checker's process (intake/scanworker.py).

    Both start ``delay`` seconds after the server listens rather than before:
    importing APScheduler and spawning the checker (a second interpreter)
    would otherwise take the CPU from the first page on an old PC. The jobs'
    first runs are minutes away, and an upload in the meantime starts the
    checker itself. ``stop`` ends what was started, also before the start.
    """

    def __init__(self, app, delay=BACKGROUND_DELAY):
        self._app = app
        self._lock = threading.Lock()
        self._scheduler = None
        self._stopped = False
        self._timer = threading.Timer(delay, self._start)
        self._timer.daemon = True
        self._timer.start()

    def _start(self):
        from .intake import scanworker

        with self._lock:
            if self._stopped:
                return
            self._scheduler = start(self._app)
            scanworker.warm()

    def stop(self):
        from .intake import scanworker

        self._timer.cancel()
        with self._lock:
            self._stopped = True
            if self._scheduler is not None:
                self._scheduler.shutdown(wait=False)
        scanworker.stop()


def _cron_trigger(key, value):
    """A CronTrigger for setting ``key``; its default if the stored text is no longer valid."""
    from .crontab import crontab_trigger

    try:
        return crontab_trigger(value)
    except ValueError:
        default = settings.spec_for(key).default
        log.error("setting %s = %r is not a valid cron expression; using the default %r", key, value, default)
        return crontab_trigger(default)
