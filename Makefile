# make run  — set up and start the app on http://127.0.0.1:8080 with the seed catalogue
# make test — set up and run every test (installs Debian's chromium, CJK fonts, zbar-tools, poppler-utils, LibreOffice Calc
#             and PostgreSQL's server if missing)
# make binary — the one-file program dist/county-app (PyInstaller); make binary-dir — the one-folder dist/county-app-folder/
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup run test browser libreoffice postgresql seed bench bench-hostile bench-ui bench-binary binary binary-dir clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	@if $(BIN)/python -c "import lxml" 2>/dev/null; then \
		echo "lxml is installed: openpyxl would write Chinese as numeric entities; removing it"; \
		$(BIN)/pip uninstall -q -y lxml; fi
	touch $(STAMP)

setup: $(STAMP)

# The program is rebuilt only when something it bundles changed (tests/test_binary_smoke.py runs `make binary`).
BUILD_STAMP := $(VENV)/.build-installed
BUNDLED := $(shell find county_app templates -type f ! -name '*.pyc' 2>/dev/null) seed_catalog.xlsx \
	build/county_app.spec build/entry.py pyproject.toml
PYINSTALLER := $(BIN)/pyinstaller --noconfirm --log-level WARN build/county_app.spec --distpath dist --workpath build/work

$(BUILD_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install -q -e ".[test,build]"
	touch $(BUILD_STAMP)

dist/county-app: $(BUILD_STAMP) $(BUNDLED)
	$(PYINSTALLER)
	touch $@

dist/county-app-folder/county-app: $(BUILD_STAMP) $(BUNDLED)
	$(PYINSTALLER) -- --onedir
	touch $@

binary: dist/county-app

binary-dir: dist/county-app-folder/county-app

run: setup
	$(BIN)/county-app init
	$(BIN)/county-app serve --host 127.0.0.1 --port 8080

# Browser and print tests drive Debian's chromium; without CJK fonts Chinese renders as boxes.
# The print tests render the printed PDFs with poppler (pdftoppm) and read their QR codes with zbar (zbarimg).
# tests/test_clock.py runs the program with its clock set wrong through libfaketime (faketime).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1 || \
	    ! command -v zbarimg >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 || \
	    ! command -v faketime >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk zbar-tools poppler-utils faketime; fi

# The catalogue tests re-save workbooks with LibreOffice Calc, as a county officer's PC may save them.
# Without it those tests are skipped (with a message), so a failed install does not stop the others.
libreoffice:
	@command -v libreoffice >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends libreoffice-calc; } || \
		echo "libreoffice-calc could not be installed: the LibreOffice round-trip tests will be skipped"

# The hub's tests run on PostgreSQL as well as SQLite: each session starts a throw-away cluster of Debian's
# server binaries (tests/postgres_cluster.py: a temporary folder, a private port and socket folder, run as
# an unprivileged user) and stops and removes it at the end. Only the binaries are needed, not a service.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql; }

test: setup browser libreoffice postgresql
	COUNTY_APP_REQUIRE_POSTGRESQL=1 $(BIN)/python -m pytest -q

seed: setup
	$(BIN)/python build/make_seed_catalog.py

bench: setup
	$(BIN)/python bench/catalogue_bench.py

bench-hostile: setup
	$(BIN)/python bench/catalogue_hostile_bench.py

bench-ui: setup browser
	$(BIN)/python bench/intake_ui_bench.py

bench-binary: binary
	$(BIN)/python bench/binary_bench.py

clean:
	rm -rf $(VENV) dist build/work .pytest_cache
