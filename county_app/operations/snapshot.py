"""A consistent copy of the live database, read from its file as plain bytes while the program runs.

SQLite's backup API copies page by page through two pagers, 2–3.5 times a
file copy (bench/RESULTS.md). In WAL mode the database file itself changes
only when a checkpoint moves committed pages from the ``-wal`` file into it,
and a checkpoint never moves pages past what an open read transaction sees
(SQLite's wal.c: the oldest reader's mark bounds the backfill, and a reader
of the file alone blocks it). So a read transaction whose whole snapshot is
in the file — shown by a PASSIVE checkpoint, run after the transaction
began, that reports every frame of the ``-wal`` moved — holds the file's
first ``page_count × page_size`` bytes still for as long as it stays open:
those bytes are the snapshot, as consistent as the backup API's copy and
read at the speed of a file copy. Litestream copies its snapshots the same
way. When writers keep committing and no such moment comes within a few
tries, ``frozen`` gives None and the caller copies with the backup API.

Two rules keep the reading itself safe:

* The page that holds SQLite's lock bytes (at 1 GiB; SQLite never stores
  data there) is written as zeros, not read, as the backup API leaves it:
  on Windows those bytes are locked against reading.
* On POSIX, closing any descriptor of a file drops every lock this process
  holds on it (fcntl's rule; SQLite's "How To Corrupt" §2.2), which would
  let another process (a command-line run) take the server's database for
  unused and delete its ``-wal``. The descriptor read here is opened once
  per file and never closed (``_held``).

The copy is a database of its own: the header's two format bytes say
"rollback journal" (1) instead of WAL (2), which is all ``PRAGMA
journal_mode=DELETE`` changes in a file whose ``-wal`` is empty.
"""
import hashlib
import os
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from .archive import CHUNK

TRIES = 20  # each try waits 10 ms longer than the one before: ~2 s in all before the backup API is used
LOCK_BYTE = 0x40000000  # SQLite's PENDING_BYTE: the page holding it is never used for data
_held = {}  # POSIX: (st_dev, st_ino) -> a read-only descriptor of that file, never closed
_held_lock = threading.Lock()


@dataclass
class Frozen:
    """An open read transaction whose snapshot is the database file's first ``size`` bytes."""
    connection: sqlite3.Connection
    path: str
    page_size: int
    page_count: int

    @property
    def size(self):
        return self.page_size * self.page_count


@contextmanager
def frozen(db_file):
    """Yield a Frozen snapshot of the database file ``db_file``, or None when none came after TRIES tries.

    ``Frozen.connection`` reads the same snapshot (the schema's migrations,
    the settings, the scans it names); nothing may be written through it.
    """
    reader = sqlite3.connect(db_file, timeout=10, isolation_level=None)
    checkpointer = sqlite3.connect(db_file, timeout=1, isolation_level=None)
    try:
        wal = reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        for attempt in range(TRIES):
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the read transaction starts here
            if not wal or _backfilled(checkpointer):  # without WAL the read lock alone keeps writers out of the file
                page_size = reader.execute("PRAGMA page_size").fetchone()[0]
                page_count = reader.execute("PRAGMA page_count").fetchone()[0]
                yield Frozen(reader, str(db_file), page_size, page_count)
                return
            reader.execute("ROLLBACK")
            time.sleep(0.01 * attempt)
        yield None
    finally:
        if reader.in_transaction:
            reader.execute("ROLLBACK")
        reader.close()
        checkpointer.close()


def copy(snapshot, out, progress=None):
    """Write the snapshot's bytes to the binary file ``out``; give their size and SHA-256 (a manifest entry).

    The SHA-256 runs on a second thread beside the reading and writing (each
    lets go of the interpreter lock), so the copy costs about what the
    slower of the two costs alone.
    """
    digest, size = hashlib.sha256(), snapshot.size
    lock_page = LOCK_BYTE // snapshot.page_size * snapshot.page_size
    with _reader(snapshot.path) as read, ThreadPoolExecutor(1, thread_name_prefix="backup-hash") as hasher:
        hashing = None
        for offset in range(0, size, CHUNK):
            length = min(CHUNK, size - offset)
            chunk = read(offset, length)
            if len(chunk) != length:
                raise OSError(f"database file shorter than its snapshot ({offset + len(chunk)} < {size})")
            if offset <= lock_page < offset + length:
                start = lock_page - offset
                chunk = chunk[:start] + bytes(snapshot.page_size) + chunk[start + snapshot.page_size:]
            if offset == 0:
                chunk = chunk[:18] + b"\x01\x01" + chunk[20:]  # write and read format: rollback journal, not WAL
            out.write(chunk)
            if hashing is not None:
                hashing.result()
            hashing = hasher.submit(digest.update, chunk)
            if progress:
                progress(length)
        if hashing is not None:
            hashing.result()
    return {"sha256": digest.hexdigest(), "size": size}


def _backfilled(checkpointer):
    """True when a PASSIVE checkpoint found every frame of the -wal in the database file."""
    try:
        busy, frames, moved = checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    except sqlite3.OperationalError:  # another checkpoint holds its lock: try again
        return False
    return busy == 0 and frames == moved and frames >= 0


@contextmanager
def _reader(path):
    """``read(offset, length)`` of the file ``path``: a held descriptor on POSIX (see the module's docstring)."""
    if os.name == "nt":
        with open(path, "rb", buffering=0) as handle:
            def read(offset, length):
                handle.seek(offset)
                return handle.read(length)

            yield read
        return
    descriptor = _held_descriptor(path)
    yield lambda offset, length: os.pread(descriptor, length, offset)


def _held_descriptor(path):
    known = os.stat(path)
    with _held_lock:
        key = (known.st_dev, known.st_ino)
        if key not in _held:
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            opened = os.fstat(descriptor)
            _held[(opened.st_dev, opened.st_ino)] = descriptor  # the file replaced in between: held all the same
            if (opened.st_dev, opened.st_ino) != key:
                raise OSError(f"database file {path} replaced while it was being opened")
        return _held[key]
