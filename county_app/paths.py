"""Where things live: the data folder, and the files shipped beside the code.

The data folder is chosen as ``--data-dir`` → ``COUNTY_APP_DATA`` → the
platform's per-user data folder, and never lies beside the code, so that a new
version of the program can replace the old one without touching data.

The folder holds personal data (names, ID numbers, scans): on Linux and macOS
it is made private to the user (700) and the database files are 600, also
when an older version left them open to others. Windows keeps per-user
permissions on ``%LOCALAPPDATA%`` itself.
"""
import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "CountyApp"
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
ENV_DATA_DIR = "COUNTY_APP_DATA"


def resolve_data_dir(option=None):
    """The data folder for ``option`` (may be None), created if missing."""
    chosen = option or os.environ.get(ENV_DATA_DIR) or platformdirs.user_data_dir(APP_NAME, appauthor=False)
    path = Path(chosen).expanduser().resolve()
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _restrict(path, PRIVATE_DIR)
    return path


def private_file(path):
    """Create ``path`` empty if missing; make it readable and writable by this user only.

    Used for SQLite files before SQLite opens them: SQLite gives a new
    database the process umask (usually 644), and its ``-wal`` and ``-shm``
    files take the database's permissions.
    """
    path = Path(path)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
    _restrict(path, PRIVATE_FILE)
    return path


def _restrict(path, mode):
    if os.name == "nt":  # Windows: the per-user folder's ACLs already keep others out
        return
    if path.stat().st_mode & 0o777 != mode:
        try:
            path.chmod(mode)
        except PermissionError:  # a folder given with --data-dir that another user owns: leave it
            pass


def resource_root():
    """The folder holding ``templates/`` and ``seed_catalog.xlsx``.

    In a PyInstaller executable that is the unpacked bundle; otherwise the
    repository (or source distribution) root above the package.
    """
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    return Path(__file__).resolve().parent.parent


def templates_dir():
    return resource_root() / "templates"


def static_dir():
    return Path(__file__).resolve().parent / "static"


def seed_catalogue_path():
    return resource_root() / "seed_catalog.xlsx"


def secret_key(data_dir):
    """The Flask ``SECRET_KEY`` kept in the data folder, generated on first run."""
    import secrets

    path = private_file(Path(data_dir) / "secret_key")  # also an older version's key, left readable
    if not path.stat().st_size:
        path.write_text(secrets.token_hex(32), encoding="ascii")
    return path.read_text(encoding="ascii").strip()
