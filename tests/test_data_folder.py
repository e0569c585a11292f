"""The data folder holds personal data: private to the user on Linux (issue 7, item 10)."""
import os
import stat
import subprocess
import sys

import pytest

from county_app import create_app

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def run_init(data_dir):
    """``county-app init`` in a fresh process with the usual umask (022), as a user would run it."""
    result = subprocess.run([sys.executable, "-m", "county_app", "--data-dir", str(data_dir), "init"],
                            capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(0o022))
    assert result.returncode == 0, result.stderr


def test_a_new_data_folder_and_its_database_are_private(tmp_path):
    data_dir = tmp_path / "CountyApp"
    run_init(data_dir)
    assert mode(data_dir) == 0o700
    database = data_dir / "county_app.sqlite3"
    assert mode(database) == 0o600 and database.stat().st_size > 0
    create_app(data_dir)  # the first start writes the session key
    assert mode(data_dir / "secret_key") == 0o600
    for sidecar in (data_dir / "county_app.sqlite3-wal", data_dir / "county_app.sqlite3-shm"):
        if sidecar.exists():
            assert mode(sidecar) == 0o600


def test_a_folder_left_open_by_an_older_version_is_made_private(tmp_path):
    data_dir = tmp_path / "CountyApp"
    run_init(data_dir)
    database, key = data_dir / "county_app.sqlite3", data_dir / "secret_key"
    create_app(data_dir)
    data_dir.chmod(0o755)
    database.chmod(0o644)
    key.chmod(0o644)
    run_init(data_dir)
    assert mode(data_dir) == 0o700 and mode(database) == 0o600
    before = key.read_text()
    create_app(data_dir)
    assert mode(key) == 0o600 and key.read_text() == before
