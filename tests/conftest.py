"""Fixtures: every test gets its own data folder with a real SQLite file under tmp_path (or, for a test
parametrised with ``ON_BOTH``, also a new PostgreSQL database of a throw-away cluster: a county hub)."""
import atexit
import contextlib
import os
import signal
import threading

import pytest
import click
from click.testing import CliRunner

from county_app import create_app
from county_app.bootstrap import initialise
from county_app.cli import main
from county_app.db import db
from county_app.views.catalogue import stop_checks

PASSWORD = "correct horse 42"

# The tests stop the programs they start as a user does, with Ctrl+C (SIGINT). A shell that runs a command in
# the background without job control (`make test &`, nohup) starts it with SIGINT ignored, and every program
# started below would inherit that and never stop: a Python handler here becomes the default behaviour in them.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def port_8080():
    """For a test of the program as a double-click starts it, on its default port 8080, which must be free."""
    from program import port_in_use

    if port_in_use(8080):
        pytest.skip("port 8080 is taken on this machine by another program")


# --- the database: SQLite, or PostgreSQL for a hub -----------------------------

ON_BOTH = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throw-away PostgreSQL cluster for the session (tests/postgres_cluster.py), stopped and removed after it."""
    from postgres_cluster import Cluster, server_binaries

    bindir = server_binaries()
    if bindir is None:
        message = "PostgreSQL's server is not installed (make test installs Debian's postgresql package)"
        if os.environ.get("COUNTY_APP_REQUIRE_POSTGRESQL"):
            pytest.fail(message)
        pytest.skip(message)
    cluster = Cluster(bindir)
    atexit.register(cluster.stop)  # also when the session is cut short before its fixtures are torn down
    try:
        yield cluster
    finally:
        cluster.stop()
        atexit.unregister(cluster.stop)


@pytest.fixture
def db_backend(request):
    """"sqlite" (the default), or "postgresql" when a test is parametrised with ``ON_BOTH``: then
    DATABASE_URL names a new empty database of the session's cluster, dropped after the test."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield backend
        return
    from county_app import db as db_module

    cluster = request.getfixturevalue("postgres_cluster")
    name = cluster.create_database()
    patch = pytest.MonkeyPatch()
    patch.setenv("DATABASE_URL", cluster.url(name))
    try:
        yield backend
    finally:
        patch.undo()
        postgres = db_module._postgres
        if not postgres.is_closed():
            postgres.close()
        postgres.close_all()
        cluster.drop_database(name)


def node_role(db_backend):
    """The role ``init`` is given: a node on PostgreSQL can only be a hub."""
    return "hub" if db_backend == "postgresql" else None


@pytest.fixture
def window_rules(db_backend, monkeypatch):
    """The window's permissions also on PostgreSQL, for the tests of the window's workflow there.

    A node on PostgreSQL can only be a hub, where nobody registers, accepts or
    delivers (access.AT_HUB: the township owns them); those tests run the
    window's workflow on PostgreSQL for its SQL, so the hub's refusals are
    set aside for them, and so is its keeping a look or a print in the
    操作日志 rather than the case's history. The hub's own rules:
    tests/test_hub_cases.py.
    """
    if db_backend == "postgresql":
        from county_app import access
        from county_app.intake import events

        monkeypatch.setattr(access, "AT_HUB", {})
        monkeypatch.setattr(events, "notes_are_audited", lambda: False)


@pytest.fixture
def data_dir(tmp_path, db_backend):
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def app(data_dir, db_backend, window_rules):
    """An initialised node without a catalogue (tests import what they need)."""
    initialise(data_dir, load_seed=False, role=node_role(db_backend))
    app = create_app(data_dir, {"TESTING": True})
    yield app
    stop_checks(app)
    if not db.is_closed():
        db.close()


@pytest.fixture
def seeded_app(data_dir, db_backend, window_rules):
    """An initialised node with the bundled seed catalogue loaded."""
    initialise(data_dir, role=node_role(db_backend))
    app = create_app(data_dir, {"TESTING": True})
    yield app
    stop_checks(app)
    if not db.is_closed():
        db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def run_cli(data_dir):
    """Run ``county-app`` through its real entry point with this test's data folder."""
    runner = CliRunner()

    def run(*args, input=None):
        result = runner.invoke(_entry_point, ["--data-dir", str(data_dir), *args], input=input)
        if not db.is_closed():
            db.close()
        return result

    return run


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                 "help_option_names": []})
@click.pass_context
def _entry_point(ctx):
    main(ctx.args)


@pytest.fixture
def unpublished_from_2027(monkeypatch):
    """chinesecalendar as 1.11.0 has it (nothing after 2026), whichever release is installed.

    Tests of a year whose 调休 is not yet published must stay true once a release holds 2027.
    """
    from county_app import workdays
    from county_app.catalogue import store

    covers = workdays._builtin_covers
    monkeypatch.setattr(workdays, "_builtin_covers", lambda year: year <= 2026 and covers(year))
    store._calendar_of.cache_clear()  # calendars remember their days: none from the real coverage
    yield
    store._calendar_of.cache_clear()


@pytest.fixture
def make_user(app):
    """Create a user with PASSWORD: ``make_user("li", "clerk")``."""
    from county_app import accounts

    def make(username, role, department=None):
        with db.connection_context(), db.atomic():
            return accounts.add_user(username, role, PASSWORD, department=department, actor="test")

    return make


def login(client, username, password=PASSWORD):
    """Log in through the real login form (with its CSRF token)."""
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def csrf_token(client, path="/"):
    import re

    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@contextlib.contextmanager
def serving(app, threads=4):
    """``app`` behind the real server (county_app.server) on a free loopback port; yields its base URL."""
    from waitress import wasyncore

    from county_app import server as http_server

    server = http_server.create(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Close from the server's own loop: closing its sockets from this thread
        # while it sits in select() raises EBADF there.
        server.task_dispatcher.shutdown()
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        except OSError:  # its trigger is closed already: another server's close_all on a shared map closed it
            wasyncore.close_all(server._map)
        thread.join(timeout=5)
        stop_checks(app)  # a catalogue job's child process must not outlive the server


@pytest.fixture
def live_server(seeded_app):
    """The seeded app served by a real waitress server; yields its base URL."""
    with serving(seeded_app) as url:
        yield url


# --- a real browser: Debian's chromium driven by Playwright -------------------

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags chromium keeps dialling Google on a closed network.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium():
    """One headless chromium for the session (``make test`` installs it)."""
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (make test does) to run this test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium):
    """A fresh page at 1366×768 (the window PCs' screen); print dialogs are stubbed out."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.add_init_script("window.print = function () {};")  # headless chromium has no dialog to wait for
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        yield page
    finally:
        context.close()


def browser_login(page, base, username, password=PASSWORD):
    """Log ``username`` in through the login form in the browser ``page`` and wait until it has left it."""
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.press("#password", "Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def sample_pdf(pages=2):
    """A small, well-formed PDF with ``pages`` blank A4 pages (with a correct xref table)."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode()]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    out, offsets = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


@pytest.fixture
def departments(app, tmp_path):
    """A small catalogue in force whose matters belong to 县卫生健康局, 县公安局 and 县民政局.

    A department user's department must be one of the catalogue in force's (accounts.py).
    """
    from county_app.catalogue import store
    from workbooks import Book

    book = Book()
    book.copy_row("事项", 3, **{"事项编码": "M003", "事项名称": "最低生活保障", "实施部门": "县民政局"})
    with db.connection_context():
        outcome = store.import_workbook(book.save(tmp_path / "departments.xlsx"), actor="test")
    assert outcome.status == "applied", outcome.errors
    return ["县公安局", "县卫生健康局", "县民政局"]
