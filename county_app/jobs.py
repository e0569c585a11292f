"""Background jobs. The scheduler starts only from ``serve``, never from create_app or tests."""
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from . import maintenance, settings
from .operations import runner
from .crontab import TIMEZONE, crontab_trigger
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
SCHEDULED = {MAINTENANCE_JOB: "maintenance.cron", BACKUP_JOB: "backup.cron"}  # job id → the setting of its time


def build(app):
    """The scheduler for ``app``'s node with its jobs, not started; schedules are read from settings now."""
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
    if is_postgresql():
        return scheduler  # a hub on PostgreSQL is backed up with pg_dump (README), not by this program
    # The backup is taken before maintenance deletes anything (02:15 before 02:30 by default).
    scheduler.add_job(runner.scheduled_backup, _cron_trigger("backup.cron", backup_cron), args=[data_dir],
                      id=BACKUP_JOB, name="夜间备份", coalesce=True, max_instances=1,
                      misfire_grace_time=MISFIRE_GRACE, replace_existing=True)
    scheduler.add_job(runner.backup_if_stale, "date", run_date=datetime.now(timezone.utc) + AFTER_START,
                      args=[data_dir], id=BACKUP_AFTER_START_JOB, name="启动后备份（当天还没有备份时）",
                      misfire_grace_time=MISFIRE_GRACE)
    scheduler.add_job(refresh_schedules, "interval", seconds=SCHEDULES_EVERY, args=[scheduler, dict(schedules)],
                      id=SCHEDULES_JOB, name="读取自动任务时间", coalesce=True, max_instances=1)
    return scheduler


def refresh_schedules(scheduler, seen):
    """Reschedule each job whose time setting changed since ``seen`` (job id → crontab text, updated here).

    The settings are read from the database, so a change saved by the
    settings page or by another process (``config set``) takes effect without
    a restart.
    """
    for job_id, text in _read_schedules():
        if seen.get(job_id) != text:
            scheduler.reschedule_job(job_id, trigger=_cron_trigger(SCHEDULED[job_id], text))
            seen[job_id] = text
            log.info("job %s rescheduled to %r", job_id, text)


def _read_schedules():
    with db.connection_context():
        return [(job_id, settings.get(key)) for job_id, key in SCHEDULED.items()]


def start(app):
    """Start the scheduler for ``app``'s node and return it (``serve`` shuts it down)."""
    scheduler = build(app)
    scheduler.start()
    return scheduler


def _cron_trigger(key, value):
    """A CronTrigger for setting ``key``; its default if the stored text is no longer valid."""
    try:
        return crontab_trigger(value)
    except ValueError:
        default = settings.spec_for(key).default
        log.error("setting %s = %r is not a valid cron expression; using the default %r", key, value, default)
        return crontab_trigger(default)
