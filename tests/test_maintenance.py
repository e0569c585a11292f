"""Nightly maintenance on a real data folder: orphaned scans, stale uploads, statistics, the job and its command."""
import hashlib
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from county_app import jobs, maintenance, settings
from county_app.crontab import crontab_trigger
from county_app.db import db
from county_app.intake import events, scans
from county_app.intake.records import Scan

from conftest import sample_pdf
from test_cases_domain import centre_window, register

HOUR = 3600


def put_file(path, age, data=b"%PDF-1.4 scan"):
    """Write ``path`` and make it ``age`` seconds old."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def scan_file(data_dir, seed, age, ext=".pdf"):
    sha = hashlib.sha256(seed.encode()).hexdigest()
    return put_file(data_dir / "scans" / sha[:2] / f"{sha}{ext}", age)


def record_scan(data_dir, path):
    """A Scan row naming ``path`` as intake.scans would store it."""
    with db.connection_context(), db.atomic():
        Scan.create(sha256=path.stem, kind="pdf", size=path.stat().st_size, pages=1,
                    path=path.relative_to(data_dir).as_posix(), stored_by="test")


def test_orphaned_scans_older_than_an_hour_go_and_everything_else_stays(app, data_dir):
    referenced = scan_file(data_dir, "referenced", 3 * HOUR)
    record_scan(data_dir, referenced)
    orphan = scan_file(data_dir, "orphan", 2 * HOUR, ext=".tif")
    leftover_part = put_file(orphan.parent / "tmpab12_xyz.part", 2 * HOUR)
    young = scan_file(data_dir, "young", 10 * 60)  # its request may still be committing the row
    sha = hashlib.sha256(b"outside").hexdigest()
    outside = [put_file(data_dir / f"{sha}.pdf", 5 * HOUR),  # beside scans/, not in it
               put_file(data_dir / "backup" / sha[:2] / f"{sha}.pdf", 5 * HOUR),
               put_file(data_dir / "county_app.sqlite3.before-0003-20260101", 5 * HOUR, b"old db")]
    unknown_name = put_file(data_dir / "scans" / sha[:2] / "申请表.pdf", 5 * HOUR)  # not a name the program writes

    report = maintenance.run_maintenance(data_dir)

    assert not orphan.exists() and not leftover_part.exists()
    assert referenced.exists() and young.exists() and unknown_name.exists()
    assert all(path.exists() for path in outside)
    assert report.scans_removed == 2 and report.scan_bytes_freed == 2 * len(b"%PDF-1.4 scan")
    assert report.failures == {}


def test_links_in_scans_are_neither_followed_nor_deleted(app, data_dir, tmp_path):
    target_dir = put_file(tmp_path / "elsewhere" / "ab" / ("ab" + "0" * 62 + ".pdf"), 5 * HOUR).parent
    shard = data_dir / "scans" / "ab"
    shard.parent.mkdir(parents=True)
    try:
        shard.symlink_to(target_dir, target_is_directory=True)
        linked_file = scan_file(data_dir, "real", 5 * HOUR).parent / ("cd" + "1" * 62 + ".pdf")
        linked_file.symlink_to(target_dir / ("ab" + "0" * 62 + ".pdf"))
        then = time.time() - 5 * HOUR
        os.utime(linked_file, (then, then), follow_symlinks=False)
    except (OSError, NotImplementedError):
        pytest.skip("this system cannot make symbolic links")

    report = maintenance.run_maintenance(data_dir)

    assert (target_dir / ("ab" + "0" * 62 + ".pdf")).exists()  # neither through the linked folder nor the link
    assert linked_file.is_symlink() and shard.is_symlink()
    assert report.scans_removed == 1  # only the real orphan "real"


def test_a_scan_whose_request_died_before_its_commit_is_removed_an_hour_later(seeded_app, make_user, data_dir,
                                                                              monkeypatch):
    """A failed transaction removes its file at once (tests/test_scan_checks.py); a request that dies between
    writing the file and committing its row (the process killed) leaves it for maintenance."""
    with centre_window(make_user) as window:
        case = register(window.clerk)
        kept = scans.attach_scan(case.case_no, "SQB", sample_pdf(1), "申请表.pdf", actor=window.clerk)

        def fail(*args, **kwargs):
            raise RuntimeError("disk full while writing the event")

        monkeypatch.setattr(events, "transition", fail)
        with pytest.raises(RuntimeError):
            scans.attach_scan(case.case_no, "JHZ", sample_pdf(2), "结婚证.pdf", actor=window.clerk)
        kept_name = kept["scans"][0]["sha256"] + ".pdf"
        assert {path.name for path in (data_dir / "scans").rglob("*.pdf")} == {kept_name}

        monkeypatch.setattr(scans, "_remove_unless_named", lambda *args: None)  # as if killed before it ran
        with pytest.raises(RuntimeError):
            scans.attach_scan(case.case_no, "JHZ", sample_pdf(2), "结婚证.pdf", actor=window.clerk)
        monkeypatch.undo()
    stored = {path.name for path in (data_dir / "scans").rglob("*.pdf")}
    orphan_name = hashlib.sha256(sample_pdf(2)).hexdigest() + ".pdf"
    assert stored == {kept_name, orphan_name}  # the file outlived its rolled-back row

    assert maintenance.run_maintenance(data_dir).scans_removed == 0  # within the hour: may be in flight
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    assert maintenance.run_maintenance(data_dir, now=later).scans_removed == 1
    assert {path.name for path in (data_dir / "scans").rglob("*.pdf")} == {kept_name}


def test_stale_catalogue_uploads_are_dropped_and_statistics_refreshed(app, data_dir):
    stale = put_file(data_dir / "uploads" / ("catalogue-" + "a" * 64 + ".xlsx"), 2 * 24 * HOUR, b"x")
    waiting = put_file(data_dir / "uploads" / ("catalogue-" + "b" * 64 + ".xlsx"), HOUR, b"x")

    report = maintenance.run_maintenance(data_dir)

    assert not stale.exists() and waiting.exists()
    assert report.uploads_removed == 1 and report.optimized
    with db.connection_context():
        assert db.execute_sql("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()[0] == 1


def test_a_failing_step_does_not_stop_the_others(app, data_dir, monkeypatch, caplog):
    def broken(*args):
        raise OSError("permission denied")

    monkeypatch.setattr(maintenance, "_remove_orphaned_scans", broken)
    stale = put_file(data_dir / "uploads" / ("catalogue-" + "a" * 64 + ".xlsx"), 2 * 24 * HOUR, b"x")

    report = maintenance.run_maintenance(data_dir)

    assert report.failures == {"scans": "permission denied"}
    assert not stale.exists() and report.uploads_removed == 1 and report.optimized
    assert "maintenance step scans failed" in caplog.text


def test_refuses_a_data_folder_the_database_is_not_bound_to(app, tmp_path):
    with pytest.raises(ValueError):
        maintenance.run_maintenance(tmp_path / "another")


def test_maintenance_command_prints_its_summary(app, data_dir, run_cli):
    orphan = scan_file(data_dir, "orphan", 2 * HOUR)
    put_file(data_dir / "uploads" / ("catalogue-" + "a" * 64 + ".xlsx"), 2 * 24 * HOUR, b"x")

    result = run_cli("maintenance")

    assert result.exit_code == 0, result.output
    assert "已删除无人引用的扫描文件 1 个" in result.output
    assert "已删除超过一天未确认的目录上传文件 1 个" in result.output
    assert "数据库查询统计已更新" in result.output
    assert not orphan.exists()


def test_maintenance_command_exits_1_when_a_step_failed(app, run_cli, monkeypatch):
    def broken(*args):
        raise OSError("permission denied")

    monkeypatch.setattr(maintenance, "_optimize", broken)
    result = run_cli("maintenance")
    assert result.exit_code == 1
    assert "失败 更新数据库查询统计：permission denied" in result.output
    assert "夜间维护有 1 项未完成" in result.output


def _fields(trigger):
    return {field.name: str(field) for field in trigger.fields}


def test_the_scheduler_has_the_maintenance_job_at_the_configured_time(app, run_cli):
    default = jobs.build(app).get_job(jobs.MAINTENANCE_JOB)
    assert _fields(default.trigger)["hour"] == "2" and _fields(default.trigger)["minute"] == "30"

    assert run_cli("config", "set", "maintenance.cron", "15 3 * * 1-5").exit_code == 0
    scheduler = jobs.build(app)
    assert not scheduler.running
    job = scheduler.get_job(jobs.MAINTENANCE_JOB)
    assert str(job.trigger.timezone) == "Asia/Shanghai"
    # crontab's weekdays: 1-5 is Monday to Friday (APScheduler 3 alone would read Tuesday to Saturday)
    runs, moment = [], datetime(2026, 11, 22, tzinfo=job.trigger.timezone)  # a Sunday
    for _ in range(6):
        moment = job.trigger.get_next_fire_time(None, moment)
        runs.append(moment.strftime("%a %H:%M"))
        moment += timedelta(minutes=1)
    assert runs == ["Mon 03:15", "Tue 03:15", "Wed 03:15", "Thu 03:15", "Fri 03:15", "Mon 03:15"]
    assert job.func is maintenance.run_maintenance and job.args == (Path(app.config["DATA_DIR"]),)
    assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == jobs.MISFIRE_GRACE
    once = scheduler.get_job(jobs.MAINTENANCE_AFTER_START_JOB)  # for a PC that is off at night
    assert once.func is maintenance.run_maintenance and once.args == job.args
    wait = once.trigger.run_date - datetime.now(timezone.utc)
    assert timedelta(minutes=9) < wait <= jobs.AFTER_START


def test_an_invalid_maintenance_cron_is_refused(app, run_cli):
    bad = run_cli("config", "set", "maintenance.cron", "every night at 2")
    assert bad.exit_code == 1
    assert "maintenance.cron" in bad.output and "不是有效的时间（如 02:00）或 cron 表达式" in bad.output
    sunday = run_cli("config", "set", "maintenance.cron", "30 2 * * 7")  # crontab's Sunday, as the job reads it
    assert sunday.exit_code == 0, sunday.output
    assert run_cli("config", "set", "maintenance.cron", "30 2 * * 8").exit_code == 1
    assert run_cli("config", "set", "maintenance.cron", "30 2 * * 1-5").exit_code == 0
    with db.connection_context():
        assert settings.get("maintenance.cron") == "30 2 * * 1-5"


@pytest.mark.parametrize("weekdays,expected", [
    ("0", {"Sun"}), ("7", {"Sun"}), ("0,6", {"Sat", "Sun"}), ("fri-sun", {"Fri", "Sat", "Sun"}),
    ("mon-fri", {"Mon", "Tue", "Wed", "Thu", "Fri"}), ("*/2", {"Sun", "Tue", "Thu", "Sat"}),
])
def test_crontab_weekday_numbers_count_from_sunday(weekdays, expected):
    trigger = crontab_trigger(f"0 12 * * {weekdays}")
    moment, days = datetime(2026, 11, 22, tzinfo=trigger.timezone), set()
    for _ in range(7):
        moment = trigger.get_next_fire_time(None, moment)
        days.add(moment.strftime("%a"))
        moment += timedelta(minutes=1)
    assert days == expected
