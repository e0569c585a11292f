"""Catalogue workbooks checked on the web page and waiting in the data folder's ``uploads/`` for confirmation.

The upload page and the nightly maintenance both drop the ones left too long.
"""
import time

UPLOAD_DIR = "uploads"
STAGED_FOR = 24 * 3600  # seconds a checked upload waits for its confirmation


def drop_stale_uploads(folder, now=None):
    """Remove uploads checked but never confirmed (or left by a crash) more than a day ago.

    ``now`` is a POSIX timestamp (default: the current time). Gives how many were removed.
    """
    cutoff = (time.time() if now is None else now) - STAGED_FOR
    removed = 0
    for path in folder.glob("*.xlsx"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:  # another request took it meanwhile
            pass
    return removed
