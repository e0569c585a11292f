"""The program's log: rotating files in the data folder's ``logs/``, never beside the executable.

``configure`` is called by ``serve`` and by every other command once the
data folder is known. ``logs/county-app.log`` is rotated by size
(MAX_BYTES, BACKUP_COUNT older files kept: a few weeks of a centre's
activity, bounded on a small disk). It receives INFO and above of every
logger but the scheduler's, whose INFO is a line for every run of every
job (two each 30 s, burying what matters); its warnings and the errors of
a failed job still come. ``serve`` also echoes them on its console. An unexpected error of a
request is logged here under its error number (views/errors.py).
"""
import logging
import logging.handlers
import os
from pathlib import Path

FOLDER = "logs"
FILENAME = "county-app.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"
_MARK = "_county_app_handler"  # our handlers on the root logger, replaced by the next configure


def configure(data_dir, *, console=False):
    """Log to ``<data_dir>/logs/county-app.log`` (and stderr when ``console``); give the file's path, or None.

    Calling it again (another data folder, a test) replaces the handlers it
    added before. A folder that cannot be written leaves the file out, with
    a line on stderr: the program still runs, and says so.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    formatter = logging.Formatter(FORMAT)
    added, path = [], Path(data_dir) / FOLDER / FILENAME
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        added.append(_PrivateRotatingFile(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8",
                                          delay=True))
    except OSError as exc:
        logging.getLogger(__name__).warning("no log file in %s: %s", path.parent, exc)
        path = None
    if console:
        added.append(logging.StreamHandler())
    for handler in added:
        handler.setFormatter(formatter)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return path


class _PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """Each log file is made readable by this user only: the log names people and cases (POSIX; on
    Windows the per-user data folder keeps others out)."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)
