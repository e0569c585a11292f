"""The nightly jobs' times: typed as a time of day or cron text, taken up by a running scheduler without a restart.

Through the real parts: the settings page behind the real waitress server,
``config set`` through the real command, and a started APScheduler
background scheduler built by ``jobs.build`` as ``serve`` builds it.
"""
import time

import pytest

from county_app import jobs, settings
from county_app.crontab import shown
from county_app.db import db

from conftest import serving
from test_setup_centre import stored
from web_client import WebClient


def _at(job):
    fields = {field.name: str(field) for field in job.trigger.fields}
    return fields["hour"], fields["minute"], fields["day_of_week"]


@pytest.mark.parametrize("typed,kept", [
    ("02:00", "0 2 * * *"), ("2:05", "5 2 * * *"), (" 23：59 ", "59 23 * * *"),  # a Chinese input method's colon
    ("0 2 * * 1-5", "0 2 * * 1-5"),
])
def test_a_schedule_is_typed_as_a_time_of_day_or_cron_text(app, typed, kept):
    with db.connection_context():
        assert settings.checked("sync.cron", typed) == kept


@pytest.mark.parametrize("typed", ["24:00", "02:60", "2点", "every night", "0 2 * *"])
def test_a_wrong_schedule_is_refused_naming_the_field(app, typed):
    with db.connection_context():
        with pytest.raises(settings.SettingError, match=r"自动同步时间（sync.cron）：不是有效的时间"):
            settings.checked("sync.cron", typed)


def test_the_page_shows_a_daily_schedule_as_a_time_of_day():
    assert shown("0 2 * * *") == "02:00" and shown("45 23 * * *") == "23:45"
    assert shown("0 2 * * 1-5") == "0 2 * * 1-5" and shown("*/5 * * * *") == "*/5 * * * *"


def test_the_settings_page_takes_times_of_day_for_the_nightly_jobs(app, make_user):
    make_user("boss", "admin")
    with serving(app) as url:
        admin = WebClient(url)
        admin.login("boss")
        status, _headers, page = admin.get("/admin/settings")
        assert status == 200 and "自动任务" in page
        assert 'name="sync.cron" value="02:00"' in page and 'name="backup.cron" value="02:15"' in page
        status, _headers, _page = admin.post("/admin/settings", {"sync.cron": "03:30", "backup.cron": "0 4 * * 1-5"})
        assert status == 302
        assert stored("sync.cron") == "30 3 * * *" and stored("backup.cron") == "0 4 * * 1-5"
        status, _headers, page = admin.post("/admin/settings", {"sync.cron": "25:00", "backup.cron": "05:00"})
        assert status == 422 and "自动同步时间（sync.cron）：不是有效的时间" in page
        assert stored("backup.cron") == "0 4 * * 1-5"  # all or nothing
        _status, _headers, page = admin.get("/admin/settings")
        assert 'name="sync.cron" value="03:30"' in page and 'value="0 4 * * 1-5"' in page


def test_a_running_scheduler_takes_up_a_changed_time_without_a_restart(app, run_cli, monkeypatch):
    monkeypatch.setattr(jobs, "SCHEDULES_EVERY", 1)
    scheduler = jobs.build(app)
    scheduler.start()
    try:
        assert _at(scheduler.get_job(jobs.BACKUP_JOB)) == ("2", "15", "*")
        # changed by another process, as an administrator's `config set` or the page of the running serve would
        assert run_cli("config", "set", "backup.cron", "03:40").exit_code == 0
        assert run_cli("config", "set", "maintenance.cron", "0 5 * * 1-5").exit_code == 0
        deadline = time.monotonic() + 15
        while _at(scheduler.get_job(jobs.BACKUP_JOB)) != ("3", "40", "*") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _at(scheduler.get_job(jobs.BACKUP_JOB)) == ("3", "40", "*")
        deadline = time.monotonic() + 5
        while _at(scheduler.get_job(jobs.MAINTENANCE_JOB))[0] != "5" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _at(scheduler.get_job(jobs.MAINTENANCE_JOB)) == ("5", "0", "mon,tue,wed,thu,fri")
        next_run = scheduler.get_job(jobs.BACKUP_JOB).next_run_time
        assert (next_run.hour, next_run.minute) == (3, 40)
    finally:
        scheduler.shutdown(wait=False)
