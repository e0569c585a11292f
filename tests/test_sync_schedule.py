"""The scheduled exchange: a started APScheduler background scheduler as ``serve`` builds it (jobs.build), a hub
served by a real process, and the one sync lock of a data folder held by a process of its own."""
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from county_app import create_app, jobs
from county_app.operations.instance import DataFolderBusy, DataFolderLock
from county_app.sync import client, nightly
from county_app.sync.errors import SyncBusy

from sync_nodes import CENTRE, at, cli, count, free_port, rows, served_hub, township
from test_sync_exchange import register_and_accept


def wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    return condition()


@pytest.fixture
def quick(monkeypatch):
    """Retries and the after-start run without their minutes of waiting (their order is what is tested)."""
    monkeypatch.setattr(nightly, "BACKOFF", (0.1, 0.2, 0.3))
    monkeypatch.setattr(jobs, "SYNC_AFTER_START", timedelta(0))


def started(app):
    scheduler = jobs.build(app)
    scheduler.start()
    return scheduler


def runs(folder):
    return rows(folder, "select actor, error_kind, ended_at is not null from sync_run order by id")


def test_an_unreachable_hub_is_retried_with_backoff_then_the_status_stays(tmp_path, quick):
    folder = tmp_path / "town"
    folder.mkdir()
    cli(folder, "init", "--code", CENTRE)
    cli(folder, "config", "set", "sync.url", f"http://127.0.0.1:{free_port()}")
    cli(folder, "config", "set", "sync.secret", "x" * 43)
    app = create_app(folder, {"TESTING": True})
    scheduler = started(app)  # 02:00 passed with no successful run: the run after start is due
    try:
        assert _next_daily(scheduler.get_job(jobs.SYNC_JOB)) == (2, 0)
        assert wait_for(lambda: len(runs(folder)) == 4 and all(done for *_, done in runs(folder))
                        and scheduler.get_job(jobs.SYNC_RETRY_JOB) is None)
    finally:
        scheduler.shutdown(wait=True)
    assert runs(folder) == [("system:missed", "unreachable", 1), ("system:retry-1", "unreachable", 1),
                            ("system:retry-2", "unreachable", 1), ("system:retry-3", "unreachable", 1)]


def test_a_missed_sync_runs_after_start_and_a_changed_time_applies_without_restart(tmp_path, quick, monkeypatch):
    monkeypatch.setattr(jobs, "SCHEDULES_EVERY", 1)
    with served_hub(tmp_path / "hub") as hub:
        town = township(tmp_path / "town", hub)
        (case_no,) = register_and_accept(town)
        app = create_app(town, {"TESTING": True})
        scheduler = started(app)
        try:
            assert wait_for(lambda: runs(town) == [("system:missed", "", 1)])
            assert rows(hub.dir, "select case_no from case_record") == [(case_no,)]
            cli(town, "config", "set", "sync.cron", "04:10")  # another process, as the settings page would
            assert wait_for(lambda: _next_daily(scheduler.get_job(jobs.SYNC_JOB)) == (4, 10), seconds=15)
        finally:
            scheduler.shutdown(wait=True)
        with at(town):
            assert not nightly.missed()  # the next start does not sync again
            assert nightly.missed(datetime.now(timezone.utc) + timedelta(days=1))


def test_a_hub_and_a_township_without_a_hub_address_do_not_sync(tmp_path, quick):
    hub = tmp_path / "hub"
    hub.mkdir()
    cli(hub, "init", "--role", "hub", "--code", "331128")
    scheduler = jobs.build(create_app(hub, {"TESTING": True}))
    assert scheduler.get_job(jobs.SYNC_JOB) is None and scheduler.get_job(jobs.SYNC_AFTER_START_JOB) is None
    town = tmp_path / "town"
    town.mkdir()
    cli(town, "init", "--code", CENTRE)
    scheduler = started(create_app(town, {"TESTING": True}))
    try:  # the job exists (sync.url may be set later) but runs nothing
        assert wait_for(lambda: scheduler.get_job(jobs.SYNC_AFTER_START_JOB) is None)
    finally:
        scheduler.shutdown(wait=True)
    assert count(town, "sync_run") == 0


HOLD = "import sys; from county_app.operations.instance import DataFolderLock as L; " \
       "l = L(sys.argv[1], 'sync.lock').acquire(); print('held', flush=True); sys.stdin.read()"


def test_one_lock_per_data_folder_across_processes_and_threads(tmp_path):
    one, other = tmp_path / "one", tmp_path / "other"
    for folder in (one, other):
        folder.mkdir()
        cli(folder, "init", "--code", CENTRE)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(one)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with at(one):
            with pytest.raises(SyncBusy, match="同步正在进行"):
                client.run_once(one, "test")
        assert count(one, "sync_run") == 0  # refused before anything was recorded
        with at(other):  # another folder's lock is its own
            assert client.run_once(other, "test").error_kind == "not_configured"
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    # within one process (the button's thread and the scheduler's in one serve) the lock holds as well
    with DataFolderLock(one, "sync.lock"):
        with pytest.raises(DataFolderBusy):
            DataFolderLock(one, "sync.lock").acquire()
    with at(one):
        assert client.run_once(one, "test").error_kind == "not_configured"


def _next_daily(job):
    moment = job.next_run_time
    return moment.hour, moment.minute
