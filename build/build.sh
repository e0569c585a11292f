#!/usr/bin/env bash
# Build the one-folder program with PyInstaller and smoke-test it on a fresh data folder.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip install -q -e ".[build]"
.venv/bin/pyinstaller --noconfirm --clean build/county_app.spec --distpath build/dist --workpath build/work
program=build/dist/county-app/county-app
smoke=$(mktemp -d)
"$program" --version
"$program" init --data-dir "$smoke" --code 330102001000 --name "冒烟测试中心"
"$program" calendar due 2026-09-30 4 --data-dir "$smoke"
"$program" calendar due 2026-12-31 1 --data-dir "$smoke"  # 2027 before its notice: lunar_python in the bundle
echo "built: $program"
