"""Catalogue workbooks uploaded on the web page, kept in the data folder's ``uploads/`` until confirmed.

An upload is saved as it arrives (never whole in memory) under a random
name, checked by a background job (checks.py) and kept until it is confirmed
or can no longer be; the upload page and the nightly maintenance drop the
ones left too long.
"""
import secrets
import time
from pathlib import Path

UPLOAD_DIR = "uploads"
STAGED_FOR = 24 * 3600  # seconds a checked upload waits for its confirmation
_CHUNK = 1 << 20


class UploadTooLarge(Exception):
    """The upload passed the size limit; the message is in Chinese."""


def stage_upload(stream, folder: Path, cap: int) -> Path:
    """Save the uploaded ``stream`` under ``folder``; raises UploadTooLarge past ``cap`` bytes (nothing is kept)."""
    folder.mkdir(exist_ok=True)
    path = folder / f"catalogue-{secrets.token_hex(16)}.xlsx"
    size = 0
    try:
        with open(path, "xb") as handle:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise UploadTooLarge(f"文件超过 {cap // (1024 * 1024)} MB，未导入")
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


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
