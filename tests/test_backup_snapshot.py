"""The backup's copy of the live database read from its file under a read transaction (operations/snapshot.py)."""
import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from county_app.db import db
from county_app.operations import archive, snapshot
from county_app.operations.backup import take_backup

LIVE = "county_app.sqlite3"

WRITER = textwrap.dedent("""
    import os, sqlite3, sys
    con = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
    con.execute("PRAGMA wal_autocheckpoint=50")  # checkpoints come often, as they would over a busy day
    print("ready", flush=True)
    while True:
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO tick (payload) VALUES (?)", (os.urandom(3000),))
        con.execute("UPDATE tally SET n = n + 1")
        con.execute("COMMIT")
""")


@pytest.fixture
def live(seeded_app, data_dir):
    """The seeded data folder's database with two test tables a writer keeps in step: tick's rows and tally.n."""
    db.close_all()
    con = sqlite3.connect(data_dir / LIVE)
    con.executescript("CREATE TABLE tick (id INTEGER PRIMARY KEY, payload BLOB);"
                      "CREATE TABLE tally (n INTEGER); INSERT INTO tally VALUES (0);")
    con.close()
    return data_dir / LIVE


def in_step(backup_file, tmp_path):
    """The backup's database passes integrity_check; give its tick count, which must equal its tally."""
    with archive.open_checked(backup_file) as checked:
        entry = checked.database
    copy = tmp_path / "copy.sqlite3"
    with open(backup_file, "rb") as source, open(copy, "wb") as out:
        assert archive.copy_hashed(source, out, limit=entry["size"]) == entry
    con = sqlite3.connect(copy)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        ticks, = con.execute("SELECT count(*) FROM tick").fetchone()
        assert con.execute("SELECT n FROM tally").fetchone() == (ticks,)
        return ticks
    finally:
        con.close()
        copy.unlink()


def test_a_backup_taken_while_another_process_writes_is_one_moment_of_the_database(live, data_dir, tmp_path):
    counts, ways = [], []
    with subprocess.Popen([sys.executable, "-c", WRITER, str(live)], stdout=subprocess.PIPE, text=True) as writer:
        try:
            assert writer.stdout.readline().strip() == "ready"
            time.sleep(0.3)
            for number in range(6):
                result = take_backup(data_dir, tmp_path / f"busy-{number}.zip")
                ways.append(result.copied_by)
                counts.append(in_step(result.path, tmp_path))
                assert writer.poll() is None  # writers go on while a backup is taken
        finally:
            writer.kill()
    assert "file" in ways  # the snapshot was frozen at least once under a writer committing all the time
    assert counts == sorted(counts) and counts[-1] > counts[0] > 0


def test_without_a_still_moment_the_backup_api_copies(live, data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot, "TRIES", 0)
    result = take_backup(data_dir, tmp_path / "api.zip")
    assert result.copied_by == "backup API"
    assert in_step(result.path, tmp_path) == 0
    monkeypatch.undo()
    assert take_backup(data_dir, tmp_path / "file.zip").copied_by == "file"


@pytest.mark.skipif(os.name == "nt", reason="POSIX locks")
def test_a_backup_leaves_this_processs_locks_on_the_live_database_in_place(live, data_dir, tmp_path):
    """Closing a descriptor of the database would drop the locks of this process's connections: another
    process closing its last connection would then take itself for the last user and delete the -wal."""
    server = sqlite3.connect(live)
    server.execute("PRAGMA journal_mode").fetchone()
    server.execute("SELECT count(*) FROM tally").fetchone()
    for number in range(2):
        assert take_backup(data_dir, tmp_path / f"{number}.zip").copied_by == "file"
    other = subprocess.run([sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                            "c.execute('UPDATE tally SET n = n + 1'); c.commit(); c.close()", str(live)], timeout=60)
    assert other.returncode == 0
    assert (data_dir / f"{LIVE}-wal").exists()  # still ours: the other process knew it was not the last
    assert server.execute("SELECT n FROM tally").fetchone() == (1,)
    server.close()


def test_the_lock_byte_page_is_written_as_zeros_and_the_header_says_rollback_journal(tmp_path):
    page = 4096
    source = tmp_path / "sparse.sqlite3"
    header = bytearray(b"SQLite format 3\x00" + bytes(84))
    header[18:20] = b"\x02\x02"  # WAL
    with open(source, "wb") as handle:
        handle.write(header)
        handle.seek(snapshot.LOCK_BYTE)
        handle.write(b"L" * page + b"D" * page)  # the lock-byte page, then the first page after it
    frozen = snapshot.Frozen(None, str(source), page, snapshot.LOCK_BYTE // page + 2)

    class Sink:
        def __init__(self):
            self.at, self.digest, self.kept = 0, hashlib.sha256(), {}

        def write(self, chunk):
            for start in (0, snapshot.LOCK_BYTE, snapshot.LOCK_BYTE + page):
                if self.at <= start < self.at + len(chunk):
                    self.kept[start] = bytes(chunk[start - self.at:start - self.at + 100])
            self.at += len(chunk)
            self.digest.update(chunk)

    sink = Sink()
    entry = snapshot.copy(frozen, sink)
    assert entry == {"size": snapshot.LOCK_BYTE + 2 * page, "sha256": sink.digest.hexdigest()}
    assert sink.kept[0][18:20] == b"\x01\x01" and sink.kept[0][:16] == b"SQLite format 3\x00"
    assert sink.kept[snapshot.LOCK_BYTE] == bytes(100)
    assert sink.kept[snapshot.LOCK_BYTE + page] == b"D" * 100


def test_a_database_file_shorter_than_its_snapshot_is_an_error_not_a_short_copy(tmp_path):
    source = tmp_path / "short.sqlite3"
    source.write_bytes(b"SQLite format 3\x00" + bytes(4096 - 16))
    with pytest.raises(OSError, match="shorter"):
        with open(os.devnull, "wb") as sink:
            snapshot.copy(snapshot.Frozen(None, str(source), 4096, 2), sink)
