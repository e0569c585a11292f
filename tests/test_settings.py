"""Settings: declared once, documented in the README, checked when set."""
from pathlib import Path

import pytest

from county_app import settings
from county_app.db import db

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_documents_every_setting_with_its_default():
    text = README.read_text(encoding="utf-8")
    for spec in settings.SETTINGS:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{spec.key}`")), None)
        assert row is not None, f"README.md misses setting {spec.key}"
        assert f"`{spec.default}`" in row or (spec.default == "" and "（空）" in row), \
            f"README.md gives the wrong default for {spec.key}"


def test_get_returns_default_then_stored_value(app):
    with db.connection_context():
        assert settings.get("sync.cron") == "0 2 * * *"
        with db.atomic():
            settings.put("sync.cron", "0 3 * * *")
        assert settings.get("sync.cron") == "0 3 * * *"


@pytest.mark.parametrize("key,value", [
    ("node.role", "village"),
    ("centre.code", "12345"),
    ("sync.cron", "every night"),
    ("catalogue.max_upload_mb", "0"),
    ("catalogue.max_upload_mb", "21"),  # above what the workbook reader accepts
    ("catalogue.max_upload_mb", "２"),
    ("no.such.key", "x"),
])
def test_bad_values_are_refused(app, key, value):
    with db.connection_context():
        with pytest.raises(settings.SettingError):
            settings.put(key, value)


def test_config_cli_round_trip_and_errors(app, run_cli):
    ok = run_cli("config", "set", "centre.code", "330102001000")
    assert ok.exit_code == 0, ok.output
    got = run_cli("config", "get", "centre.code")
    assert got.exit_code == 0 and got.output.strip().splitlines()[-1] == "330102001000"
    bad = run_cli("config", "set", "centre.code", "33")
    assert bad.exit_code == 1
    assert "12 位数字" in bad.output
    assert run_cli("config", "get", "centre.code").output.strip().splitlines()[-1] == "330102001000"
    unknown = run_cli("config", "get", "nope")
    assert unknown.exit_code == 1 and "未知的设置项" in unknown.output
