"""The data folder's lock: one ``serve`` per data folder, and no restore under a running server.

``serve`` holds an OS lock on ``<data>/county_app.lock`` for as long as it
runs; ``restore`` (and ``init`` when it must migrate) take the same lock or
refuse. The operating system releases it when the process ends, also when it
is killed, so a crash never leaves a stale lock behind (the file itself stays;
it is the lock on it that counts). The lock is on the file's first byte:
``flock`` on Linux and macOS, ``msvcrt.locking`` on Windows.

Beside it, ``serve`` records the address it listens on (``county_app.address``)
once it listens, so that a second copy started on the folder — a second
double-click — can send the browser there instead of serving. A record left
by a crash is removed by the next ``serve`` as soon as it holds the lock.
"""
import os
from pathlib import Path

LOCK_FILENAME = "county_app.lock"
ADDRESS_FILENAME = "county_app.address"
MAX_ADDRESS = 200  # characters: an address record longer than any URL of ours is not ours


class DataFolderBusy(Exception):
    """Another process of the program holds the data folder (message in Chinese)."""


class DataFolderLock:
    """An exclusive lock on a data folder, taken without waiting; use as a context manager or acquire/release."""

    def __init__(self, data_dir, filename=LOCK_FILENAME, busy=None):
        """``filename`` and ``busy`` (the refusal's message) for another lock of the folder (the sync's)."""
        self.path = Path(data_dir) / filename
        self._busy = busy
        self._fd = None

    def acquire(self, doing="此操作"):
        if self._fd is not None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd)
        except OSError:
            os.close(fd)
            raise DataFolderBusy(self._busy or f"数据文件夹 {self.path.parent} 正由另一个正在运行的本程序使用（例如服务正在运行）；"
                                               f"请先关闭它，再进行{doing}") from None
        self._fd = fd
        self._address_path.unlink(missing_ok=True)  # a crashed serve's record: nobody listens there now
        return self

    def announce(self, url):
        """Record ``url`` as the address of the copy holding the lock (read by ``running_address``)."""
        assert self.held
        partial = self._address_path.with_suffix(".address-part")
        partial.write_text(url, encoding="utf-8")
        os.replace(partial, self._address_path)  # a reader sees the old record or the whole new one

    @property
    def _address_path(self):
        return self.path.with_name(ADDRESS_FILENAME)

    def release(self):
        if self._fd is not None:
            self._address_path.unlink(missing_ok=True)
            try:
                _unlock(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None

    @property
    def held(self):
        return self._fd is not None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def running_address(data_dir):
    """The address the copy serving ``data_dir`` recorded, or None (not yet listening, or unreadable)."""
    try:
        url = (Path(data_dir) / ADDRESS_FILENAME).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return url if url.startswith("http://") and len(url) <= MAX_ADDRESS else None


if os.name == "nt":  # pragma: no cover - Windows
    import msvcrt

    def _lock(fd):
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd):
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(fd):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd):
        fcntl.flock(fd, fcntl.LOCK_UN)
