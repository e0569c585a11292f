"""Where things live: the data folder, and the files shipped beside the code.

The data folder is chosen as ``--data-dir`` → ``COUNTY_APP_DATA`` → the
platform's per-user data folder, and never lies beside the code, so that a new
version of the program can replace the old one without touching data.
"""
import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "CountyApp"
ENV_DATA_DIR = "COUNTY_APP_DATA"


def resolve_data_dir(option=None):
    """The data folder for ``option`` (may be None), created if missing."""
    chosen = option or os.environ.get(ENV_DATA_DIR) or platformdirs.user_data_dir(APP_NAME, appauthor=False)
    path = Path(chosen).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


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

    path = Path(data_dir) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="ascii")
        try:
            path.chmod(0o600)
        except OSError:  # Windows keeps per-user ACLs on the data folder instead
            pass
    return path.read_text(encoding="ascii").strip()
