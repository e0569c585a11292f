"""Backups and restore through the real command line: one verified file of the database and scans, restored
only when it is ours, whole, unchanged and of a schema we know; the live database untouched otherwise."""
import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from county_app import accounts, migrations
from county_app.db import db
from county_app.intake import scans
from county_app.operations import archive, retention

from program import started_serving
from test_cases_domain import centre_window, register
from test_cases_scans import png

LIVE = "county_app.sqlite3"


def cli(data_dir, *args, **options):
    return subprocess.run([sys.executable, "-m", "county_app", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=300, **options)


@pytest.fixture
def centre(seeded_app, make_user, data_dir):
    """A centre with one case holding one stored scan; this process's connections closed."""
    with centre_window(make_user) as people:
        case = register(people.clerk)
        answer = scans.attach_scan(case.case_no, "SQB", png(), "申请表.png", actor=people.clerk)
    db.close_all()
    sha = answer["scans"][0]["sha256"]
    return {"case_no": case.case_no, "scan": data_dir / "scans" / sha[:2] / f"{sha}.png", "sha": sha}


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def live_state(data_dir):
    """The live database's bytes and every file of the data folder but the lock and the log (a refusal is
    logged): what a refusal must not change."""
    return {str(p.relative_to(data_dir)): digest(p) for p in sorted(data_dir.rglob("*"))
            if p.is_file() and p.name != "county_app.lock" and p.parent.name != "logs"}


def usernames(data_dir):
    con = sqlite3.connect(data_dir / LIVE)
    try:
        return [row[0] for row in con.execute("select username from user order by username")]
    finally:
        con.close()


def test_a_backup_is_one_private_file_of_the_database_then_a_zip_of_the_scans(centre, data_dir, tmp_path):
    done = cli(data_dir, "backup", str(tmp_path / "centre.zip"))
    assert done.returncode == 0, done.stderr
    assert "校验和已读回核对" in done.stdout and "扫描件 1 个" in done.stdout
    target = tmp_path / "centre.zip"
    assert target.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".*.part"))
    data = target.read_bytes()
    assert data.startswith(b"SQLite format 3\x00")
    with zipfile.ZipFile(target) as archive:  # the zip after the database: any zip reader finds it
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["format"] == "county-app-backup" and manifest["format_version"] == 2
        assert manifest["schema"] == migrations.MIGRATIONS[-1][0]
        scan_member = f"scans/{centre['sha'][:2]}/{centre['sha']}.png"
        assert set(manifest["members"]) == {scan_member} and archive.testzip() is None
        assert hashlib.sha256(archive.read(scan_member)).hexdigest() == manifest["members"][scan_member]["sha256"]
        assert min(info.header_offset for info in archive.infolist()) == manifest["database"]["size"]
    database = data[:manifest["database"]["size"]]
    assert hashlib.sha256(database).hexdigest() == manifest["database"]["sha256"]
    (tmp_path / "copy.sqlite3").write_bytes(database)
    con = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert con.execute("pragma integrity_check").fetchone() == ("ok",)
    assert con.execute("pragma journal_mode").fetchone() == ("delete",)  # self-contained: no -wal to go with it
    assert con.execute("select count(*) from case_record").fetchone() == (1,)
    con.close()
    # an existing file is never overwritten
    again = cli(data_dir, "backup", str(target))
    assert again.returncode == 1 and "已存在" in again.stderr
    verified = cli(data_dir, "backup", "--verify", str(tmp_path / "checked.zip"))
    assert verified.returncode == 0 and "已校验：校验和与完整性检查（integrity_check）均通过" in verified.stdout
    con = sqlite3.connect(data_dir / LIVE)
    assert con.execute("select action, entity_id from audit_log order by id desc limit 1").fetchone() == (
        "backup.verified", "checked.zip")
    con.close()


def test_restore_brings_back_the_database_and_scans_and_keeps_what_it_replaces(centre, data_dir, tmp_path):
    assert cli(data_dir, "backup", str(tmp_path / "monday.zip")).returncode == 0
    with db.connection_context():
        accounts.add_user("newcomer", "clerk", "correct horse 42", actor="test")
    db.close_all()
    centre["scan"].unlink()  # a scan lost since
    restored = cli(data_dir, "restore", str(tmp_path / "monday.zip"))
    assert restored.returncode == 0, restored.stderr
    assert "已恢复备份" in restored.stdout
    assert "newcomer" not in usernames(data_dir)
    assert digest(centre["scan"]) == centre["sha"]
    replaced = list(data_dir.glob("county_app.sqlite3.replaced-*"))
    assert len(replaced) == 1 and "newcomer" in usernames_of(replaced[0])
    (kept,) = (data_dir / "backups").glob("county-app-*-before-restore.zip")
    with archive.open_checked(kept) as checked:
        assert checked.database["size"] > 0 and set(checked.scans) == {f"scans/{centre['sha'][:2]}/{centre['sha']}.png"}
    assert not list(data_dir.glob(".restore-*"))
    con = sqlite3.connect(data_dir / LIVE)
    assert con.execute("select action from audit_log order by id desc limit 1").fetchone() == ("backup.restore",)
    con.close()


def usernames_of(path):
    con = sqlite3.connect(path)
    try:
        return {row[0] for row in con.execute("select username from user")}
    finally:
        con.close()


def parts(backup):
    """The database bytes, the manifest and the scan members of a backup file of either format."""
    with zipfile.ZipFile(backup) as zipped:
        manifest = json.loads(zipped.read("manifest.json"))
        scans = {name: zipped.read(name) for name in manifest["members"] if name != "county_app.sqlite3"}
        if manifest["format_version"] == 1:
            database = zipped.read("county_app.sqlite3")
        else:
            database = Path(backup).read_bytes()[:manifest["database"]["size"]]
    return database, manifest, scans


def rewrite(source, target, *, database=None, manifest_changes=None, rehash=True, old_format=False):
    """A copy of the backup ``source`` with its database bytes and/or manifest changed, in format 2 or (old_format)
    as earlier versions wrote it: one zip whose member county_app.sqlite3 is the database."""
    data, manifest, scans = parts(source)
    entry = manifest.pop("database", None) or manifest["members"].pop("county_app.sqlite3")
    if database is not None:
        data = database(data)
        if rehash:
            entry = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    manifest.update(manifest_changes or {})
    if old_format:
        manifest.update(format_version=1, members={"county_app.sqlite3": entry, **manifest["members"]})
        with zipfile.ZipFile(target, "w") as zipped:
            zipped.writestr("county_app.sqlite3", data)
            for name, content in scans.items():
                zipped.writestr(name, content)
            zipped.writestr("manifest.json", json.dumps(manifest), compress_type=zipfile.ZIP_DEFLATED)
        return target
    manifest["database"] = entry
    Path(target).write_bytes(data)
    with open(target, "r+b") as handle:
        handle.seek(len(data))
        with zipfile.ZipFile(handle, "w") as zipped:
            for name, content in scans.items():
                zipped.writestr(name, content)
            zipped.writestr("manifest.json", json.dumps(manifest))
    return target


def with_future_migration(data):
    """The database bytes with one more applied migration, of a newer program."""
    path = Path(f"/tmp/future-{os.getpid()}.sqlite3")
    path.write_bytes(data)
    con = sqlite3.connect(path)
    con.execute("insert into schema_migration (name, applied_at) values ('0099_future', '2027-01-01')")
    con.commit()
    con.close()
    try:
        return path.read_bytes()
    finally:
        path.unlink()


def damaged_page(data):
    """The database with a b-tree page overwritten: readable header, integrity_check fails."""
    page = int.from_bytes(data[16:18], "big") or 65536
    broken = bytearray(data)
    broken[page * 3 + 8: page * 3 + 200] = b"\xff" * 192
    return bytes(broken)


NEWER = {"schema": "0099_future", "migrations": [
    "0001_initial", "0002_cases", "0003_case_item_department_index", "0004_receipt_at_registration",
    "0005_login_sessions", "0006_material_conditions", "0099_future"]}
# kind: (how the bad file is made from a good backup in format 2, of the format it is in (old: 1), the message)
BAD_FILES = {
    "foreign": (lambda good, tmp, old: _write(tmp / "notes.zip", _zip_of({"readme.txt": b"hello"})),
                "不是本程序生成的备份文件"),
    "not a zip": (lambda good, tmp, old: _write(tmp / "photo.zip", b"\xff\xd8\xff" + b"0" * 5000), "不是本程序生成的备份文件"),
    "a database, not a backup": (lambda good, tmp, old: _write(tmp / "db.zip", parts(good)[0]), "不是备份文件"),
    "truncated": (lambda good, tmp, old: _write(tmp / "cut.zip", rewrite(good, tmp / "x", old_format=old).read_bytes()[
        : good.stat().st_size // 2]), "不完整"),
    "truncated in the zip": (lambda good, tmp, old: _write(tmp / "cut.zip", rewrite(
        good, tmp / "x", old_format=old).read_bytes()[:-300]), "不完整"),
    "checksum": (lambda good, tmp, old: rewrite(good, tmp / "changed.zip", database=damaged_page, rehash=False,
                                                old_format=old), "SHA-256 校验和与清单不符"),
    "one byte flipped": (lambda good, tmp, old: rewrite(good, tmp / "flipped.zip", database=flip_byte, rehash=False,
                                                        old_format=old), "SHA-256 校验和与清单不符"),
    "integrity": (lambda good, tmp, old: rewrite(good, tmp / "damaged.zip", database=damaged_page, old_format=old),
                  "未通过完整性检查"),
    "newer schema": (lambda good, tmp, old: rewrite(good, tmp / "future.zip", database=with_future_migration,
                                                    manifest_changes=NEWER, old_format=old), "更新版本的程序"),
    "missing": (lambda good, tmp, old: _write(tmp / "nothing-here.zip", None), "找不到备份文件"),
}


def flip_byte(data):
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]


def _write(path, data):
    if data is not None:
        path.write_bytes(data)
    return path


def _zip_of(members):
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("old", [False, True], ids=["format 2", "old format"])
@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_restore_refuses_a_bad_file_and_changes_nothing(kind, old, centre, data_dir, tmp_path):
    good = tmp_path / "good.zip"
    assert cli(data_dir, "backup", str(good)).returncode == 0
    make, message = BAD_FILES[kind]
    bad = make(good, tmp_path, old)
    before = live_state(data_dir)
    refused = cli(data_dir, "restore", str(bad))
    assert refused.returncode == 1
    assert message in refused.stderr and "Traceback" not in refused.stderr
    assert live_state(data_dir) == before


def test_a_changed_scan_in_the_appended_zip_is_refused(centre, data_dir, tmp_path):
    good = tmp_path / "good.zip"
    assert cli(data_dir, "backup", str(good)).returncode == 0
    data = bytearray(good.read_bytes())
    at = data.index(b"\x89PNG", parts(good)[1]["database"]["size"]) + 40  # inside the scan's bytes
    data[at] ^= 0x01
    (tmp_path / "bad.zip").write_bytes(bytes(data))
    centre["scan"].unlink()  # else the restore takes the live copy of the scan and never reads this one
    before = live_state(data_dir)
    refused = cli(data_dir, "restore", str(tmp_path / "bad.zip"))
    assert refused.returncode == 1 and "CRC" in refused.stderr and "Traceback" not in refused.stderr
    assert live_state(data_dir) == before


def test_a_backup_in_the_old_format_is_still_restored(centre, data_dir, tmp_path):
    assert cli(data_dir, "backup", str(tmp_path / "monday.zip")).returncode == 0
    old = rewrite(tmp_path / "monday.zip", tmp_path / "monday-old.zip", old_format=True)
    with db.connection_context():
        accounts.add_user("newcomer", "clerk", "correct horse 42", actor="test")
    db.close_all()
    centre["scan"].unlink()
    restored = cli(data_dir, "restore", str(old))
    assert restored.returncode == 0, restored.stderr
    assert "newcomer" not in usernames(data_dir) and digest(centre["scan"]) == centre["sha"]


def test_restore_refuses_while_the_server_runs_on_the_folder(centre, data_dir, tmp_path):
    assert cli(data_dir, "backup", str(tmp_path / "good.zip")).returncode == 0
    with started_serving(data_dir):
        before = live_state(data_dir)
        refused = cli(data_dir, "restore", str(tmp_path / "good.zip"))
        assert refused.returncode == 1 and "正由另一个正在运行的本程序使用" in refused.stderr
        second = cli(data_dir, "serve", "--port", "0")
        assert second.returncode == 1 and "本程序已经在运行" in second.stderr
        assert live_state(data_dir) == before
    assert cli(data_dir, "restore", str(tmp_path / "good.zip")).returncode == 0


@contextlib.contextmanager
def read_only(folder):
    """``folder`` made unwritable: read-only permissions, or for root (who writes anyway) a read-only bind mount."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    bound = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True)
    if bound.returncode:
        pytest.skip(f"root cannot bind-mount here: {bound.stderr!r}")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True).returncode:
            pytest.skip("root cannot remount read-only here")
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_a_data_folder_that_cannot_be_written_is_refused_cleanly(centre, data_dir, tmp_path):
    good = tmp_path / "good.zip"
    assert cli(data_dir, "backup", str(good)).returncode == 0
    before = live_state(data_dir)
    with read_only(data_dir):
        refused = cli(data_dir, "restore", str(good))
        assert refused.returncode == 1 and "不可写入" in refused.stderr and "Traceback" not in refused.stderr
        refused = cli(data_dir, "backup")
        assert refused.returncode == 1 and "无法写入" in refused.stderr and "Traceback" not in refused.stderr
    assert live_state(data_dir) == before


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs where root may mount one, else None (the test then limits file sizes instead)."""
    mount = tmp_path / "usb"
    mount.mkdir()
    tmpfs = shutil.which("mount") and not os.environ.get("COUNTY_APP_TEST_FSIZE")  # set to try the other way
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=700", "tmpfs", str(mount)],
                          capture_output=True) if tmpfs else None
    if done is None or done.returncode:
        yield mount, False
        return
    try:
        yield mount, True
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))  # the database alone is ~500 KB


def test_a_full_disk_removes_the_partial_backup_and_keeps_the_old_ones(centre, data_dir, tmp_path, small_disk):
    folder, mounted = small_disk
    assert cli(data_dir, "config", "set", "backup.folder", str(folder)).returncode == 0
    assert cli(data_dir, "backup").returncode == 0  # about 0.6 MB: one fits
    (old,) = folder.glob("county-app-*.zip")
    old_digest = digest(old)
    if mounted:  # fill the disk but for a few hundred KB: the next backup cannot finish
        (folder / "filler").write_bytes(b"\0" * (2 * 1024 * 1024 - old.stat().st_size - 300 * 1024))
        full = cli(data_dir, "backup")
    else:
        full = cli(data_dir, "backup", preexec_fn=limit_file_size)
    assert full.returncode == 1 and "未写完的文件已删除，原有备份保留" in full.stderr
    if mounted:  # a size limit makes SQLite report its failed write as an I/O error instead
        assert "磁盘空间不足" in full.stderr
    assert "Traceback" not in full.stderr
    assert sorted(p.name for p in folder.iterdir() if p.name != "filler") == [old.name]
    assert digest(old) == old_digest


def test_a_backup_folder_that_is_not_there_is_a_clear_error(centre, data_dir, tmp_path):
    assert cli(data_dir, "config", "set", "backup.folder", str(tmp_path / "usb-not-plugged")).returncode == 0
    missing = cli(data_dir, "backup")
    assert missing.returncode == 1 and "不存在或无法访问" in missing.stderr
    assert not (tmp_path / "usb-not-plugged").exists()


def test_retention_keeps_14_daily_and_12_monthly_and_never_the_future():
    now = datetime(2026, 11, 30, 12, 0)
    names = []
    for day in range(400):  # two a day for 400 days
        for hour in (2, 14):
            taken = datetime.fromordinal(now.toordinal() - day).replace(hour=hour)
            if taken <= now:
                names.append(f"county-app-{taken:%Y%m%d-%H%M%S}.zip")
    names += ["county-app-20310101-021500.zip",  # a clock once set years ahead
              *(f"county-app-2026110{d}-101010-before-restore.zip" for d in range(1, 8)), "notes.zip"]
    gone = set(retention.to_delete(names, now))
    kept = [name for name in names if name not in gone]
    dated = [name for name in kept if name.count("-") == 3 and not name.startswith("county-app-2031")]
    days = {name[11:19] for name in dated}
    assert len(days) == len(dated)  # one a day at most: the newest of each
    assert "county-app-20261129-020000.zip" in gone and "county-app-20261129-140000.zip" in kept
    assert sorted(days)[-14:] == [f"202611{d}" for d in range(17, 31)]  # the 14 latest days
    months = sorted({name[11:17] for name in dated})
    assert months == ["202512", *(f"2026{m:02d}" for m in range(1, 12))]  # 12 months: the newest of each
    assert len(dated) == 14 + 11  # November's copy is also one of the 14 days
    assert "county-app-20310101-021500.zip" in kept and "notes.zip" in kept
    assert sorted(n for n in kept if "before-restore" in n) == [
        f"county-app-2026110{d}-101010-before-restore.zip" for d in range(3, 8)]


def test_a_backup_cut_short_leaves_nothing_after_a_day(tmp_path):
    old, young = tmp_path / ".county-app-20261128-021500.zip.part", tmp_path / ".county-app-20261130-021500.zip.part"
    for path in (old, young, tmp_path / "notes.part"):
        path.write_bytes(b"partial")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    os.utime(tmp_path / "notes.part", (two_days_ago, two_days_ago))
    assert retention.prune(tmp_path) == [old.name]
    assert young.exists() and (tmp_path / "notes.part").exists()


def test_serve_schedules_the_nightly_backup_and_one_after_a_start(app, run_cli):
    from county_app import jobs
    from county_app.operations import runner

    scheduler = jobs.build(app)
    job = scheduler.get_job(jobs.BACKUP_JOB)
    assert {f.name: str(f) for f in job.trigger.fields}["hour"] == "2"
    assert {f.name: str(f) for f in job.trigger.fields}["minute"] == "15"
    assert job.func is runner.scheduled_backup and job.max_instances == 1
    assert scheduler.get_job(jobs.BACKUP_AFTER_START_JOB).func is runner.backup_if_stale
    assert run_cli("config", "set", "backup.cron", "0 13 * * *").exit_code == 0
    job = jobs.build(app).get_job(jobs.BACKUP_JOB)
    assert {f.name: str(f) for f in job.trigger.fields}["hour"] == "13"
    assert run_cli("config", "set", "backup.cron", "nightly").exit_code == 1
    assert run_cli("config", "set", "backup.folder", "backups").exit_code == 1  # a full path only


def test_after_a_start_a_backup_is_taken_only_when_the_newest_is_old(app, data_dir):
    from county_app.operations import runner

    db.close_all()
    runner.backup_if_stale(data_dir)
    (first,) = (data_dir / "backups").glob("county-app-*.zip")
    runner.backup_if_stale(data_dir)  # the newest is minutes old: nothing more
    assert list((data_dir / "backups").glob("county-app-*.zip")) == [first]
    con = sqlite3.connect(data_dir / LIVE)  # the scheduled backup was verified in full, and that is recorded
    assert con.execute("select actor, action, entity_id from audit_log where entity = 'backup' order by id").fetchall(
    ) == [("system:nightly", "backup.create", first.name), ("system:nightly", "backup.verified", first.name)]
    con.close()
