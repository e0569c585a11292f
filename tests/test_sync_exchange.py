"""The exchange between two real processes over loopback: a hub served by ``county-app serve``, a township
running ``county-app sync run``, each on its own data folder (docs/sync.md)."""
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from county_app.intake import cases, materials, outcomes, workflow
from county_app.intake.records import Case

from sync_nodes import (CENTRE, at, cli, count, free_port, kill_hard, rows, served_hub, start_sync, township,
                        environment, wait_until, writer_active)
from test_cases_domain import newborn, supply_all_but_marriage_certificate
from workbooks import Book


@pytest.fixture(params=["sqlite", "postgresql"])
def hub_database(request):
    """None (the hub on SQLite in its folder) or the URL of a new database of the session's PostgreSQL cluster."""
    if request.param == "sqlite":
        yield None
        return
    cluster = request.getfixturevalue("postgres_cluster")
    name = cluster.create_database()
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture
def hub(tmp_path, hub_database):
    with served_hub(tmp_path / "hub", hub_database) as node:
        yield node


@pytest.fixture
def town(tmp_path, hub):
    return township(tmp_path / "town", hub)


def register_and_accept(folder, how_many=1):
    """Cases of story 1 at the township, each with its materials logged and accepted; their numbers."""
    numbers = []
    with at(folder):
        for _ in range(how_many):
            case = cases.register_case(**newborn(), actor="li")
            supply_all_but_marriage_certificate(case.case_no, "li")
            materials.log_material(case.case_no, "JHZ", "original_verified", actor="li")
            workflow.accept_case(case.case_no, actor="li")
            numbers.append(case.case_no)
    return numbers


def sync(folder):
    done = cli(folder, "sync", "run", check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_catalogue_down_cases_up_results_back(hub, town, tmp_path):
    (case_no,) = register_and_accept(town)
    township_events = count(town, "case_event")
    newer = Book().set("目录信息", 2, "内容", "2026.12-02").set("目录信息", 4, "内容", "2026-12-01")
    hub.cli("catalogue", "import", str(newer.save(tmp_path / "newer.xlsx")))

    out = sync(town)
    assert f"已上传变更 {township_events} 条，已下载变更 0 条，已更新事项目录为 2026.12-02" in out
    # the hub holds the case as the township does: items, checklist, every event
    assert rows(hub, "select status, applicant_name from case_record where case_no = ?", case_no) == \
        rows(town, "select status, applicant_name from case_record where case_no = ?", case_no)
    assert count(hub, "case_event") == township_events
    item_sql = ("select i.matter_code, i.department, i.status, i.due_date from case_item i join case_record c "
                "on c.id = i.case_id where c.case_no = ? order by i.position")
    assert rows(hub, item_sql, case_no) == rows(town, item_sql, case_no)
    material_sql = "select code, status, logged_by from case_material order by code"
    assert rows(hub, material_sql) == rows(town, material_sql)
    assert rows(town, "select version from catalogue_version order by id desc limit 1") == [("2026.12-02",)]
    # the workbook's 节假日 rows came with it
    holidays = ("select day, kind, name from calendar_day c join catalogue_version v on v.id = c.catalogue_id "
                "where v.version = '2026.12-02' order by day")
    assert rows(town, holidays) == rows(hub, holidays) and rows(town, holidays)

    # departments record at the hub: a suspension and its end, then every result (the case concludes)
    with at(hub):
        workflow.suspend_item(case_no, "GA-0101", "检验", actor="gaj")
        workflow.resume_item(case_no, "GA-0101", actor="gaj")
        for code in ("WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "WJ-0103"):
            outcomes.record_result(case_no, code, "approved", actor="dept", result_no=f"R-{code}")
        assert Case.get(Case.case_no == case_no).status == "concluded"
    out = sync(town)
    assert "已上传变更 0 条，已下载变更 8 条" in out, out
    assert rows(town, "select status from case_record where case_no = ?", case_no) == [("concluded",)]
    assert rows(town, "select matter_code, status, result_no from case_item order by position") == [
        (code, "approved", f"R-{code}") for code in ("WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "WJ-0103")]
    assert count(town, "case_suspension") == 1 and count(town, "case_notice", "kind = 'completion'") == 1
    assert count(town, "case_event") == count(hub, "case_event") == township_events + 8

    # the window delivers; that goes up, nothing comes back twice
    with at(town):
        outcomes.deliver_case(case_no, "window", actor="li")
    assert "已上传变更 1 条，已下载变更 0 条" in sync(town)
    assert rows(hub, "select status from case_record where case_no = ?", case_no) == [("delivered",)]
    assert "已上传变更 0 条，已下载变更 0 条" in sync(town)
    assert count(town, "case_event") == count(hub, "case_event")
    runs = rows(town, "select pushed, pulled, catalogue, error, ended_at is not null from sync_run order by id")
    assert runs == [(township_events, 0, "2026.12-02", "", 1), (0, 8, "", "", 1), (1, 0, "", "", 1),
                    (0, 0, "", "", 1)]


def applied(hub):
    return rows(hub, "select applied_through from sync_node")[0][0]


def mark(town, name):
    return (rows(town, "select value from sync_mark where name = ?", name) or [(0,)])[0][0]


EVENTS_BY_CASE = ("select c.case_no, count(*) from case_event e join case_record c on c.id = e.case_id "
                  "group by c.case_no order by c.case_no")


def assert_complete(hub, town, written, cases):
    """Everything the township wrote is at the hub once: the same cases, each with the same events."""
    assert applied(hub) == mark(town, "up.acked") == mark(town, "up.written") == written
    assert count(hub, "case_event") == count(town, "case_event") == written
    assert count(hub, "case_record") == count(town, "case_record") == cases
    assert rows(hub, EVENTS_BY_CASE) == rows(town, EVENTS_BY_CASE)  # no event doubled, none missing
    assert count(hub, "case_event", "request_key is null") == written
    assert count(town, "sync_outbox") == 0 and count(hub, "sync_outbox") == 0  # acknowledged, then forgotten


@pytest.fixture
def batches_of(monkeypatch):
    """``batches_of(n)``: batches of at most n changes in the processes started from then on
    (COUNTY_APP_SYNC_TEST_BATCH, read by sync/outbox.py), so that a backlog of a few hundred cases takes
    several batches and kills land between and inside them."""
    return lambda changes: monkeypatch.setenv("COUNTY_APP_SYNC_TEST_BATCH", str(changes))


def test_the_township_killed_at_several_moments_then_a_run_completes_with_exact_counts(hub, town, batches_of):
    batches_of(100)  # 840 changes: 9 batches (a killed run may have sent the next one already: it reads ahead)
    register_and_accept(town, 120)
    written = mark(town, "up.written")
    assert written == count(town, "case_event")
    hub.stop()
    hub.hold = 0.3  # each batch's transaction held open: the run is still going at each moment, however fast
    hub.start()
    moments = (  # what the killed run was doing
        ("the hub has just committed a batch", lambda before: applied(hub) > before),
        ("the hub is applying a batch", lambda before: applied(hub) > before and writer_active(hub)),
        ("the township is storing the hub's answer", lambda before: mark(town, "up.acked") > before),
    )
    for doing, reached in moments:
        before = max(applied(hub), mark(town, "up.acked"))
        run = start_sync(town)
        wait_until(lambda: reached(before) or run.poll() is not None)
        kill_hard(run)
        assert run.returncode == -9, f"the run ended before it was killed ({doing})"
        wait_until(lambda: not writer_active(hub))  # a request the hub was applying still commits, whole
        assert 0 < applied(hub) < written, doing
        assert count(hub, "case_event") == applied(hub), doing  # whole batches only
        assert mark(town, "up.acked") <= applied(hub), doing  # it may have died before storing the answer
    assert count(town, "sync_run", "ended_at is null") == len(moments)  # the killed runs show as never finished

    acked = mark(town, "up.acked")
    out = sync(town)
    assert_complete(hub, town, written, 120)
    # resumed after the last answer the township stored: what the hub had applied since was skipped, not doubled
    assert f"已上传变更 {written - acked} 条" in out


def test_the_hub_killed_while_applying_a_push_several_times_then_completion_with_exact_counts(hub, town,
                                                                                              batches_of):
    batches_of(170)  # 1,680 changes: 10 batches
    register_and_accept(town, 240)
    written = mark(town, "up.written")
    hub.stop()
    hub.hold = 1.0  # each batch's transaction held open a second: a kill lands inside it on any machine
    hub.start()
    mid_batch = 0
    for pause in (0.2, 0.4, 0.6):  # past the request's short nonce transaction, into the batch's (held 1 s)
        before = applied(hub)
        run = start_sync(town)
        wait_until(lambda: applied(hub) > before and writer_active(hub))  # a batch committed, the next under way
        time.sleep(pause)
        mid_batch += writer_active(hub)
        hub.kill()
        assert run.wait(timeout=60) == 1  # the township's run ends with a clear error, keeping its outbox
        assert 0 < applied(hub) < written
        assert count(hub, "case_event") == applied(hub)  # the batch under way left nothing behind
        assert mark(town, "up.acked") <= applied(hub)
        hub.start()
    assert mid_batch == 3  # every kill landed inside a batch's transaction
    assert count(town, "sync_run", "error like '%无法连接县级汇聚中心%'") == 3
    sync(town)
    assert_complete(hub, town, written, 240)


def test_one_run_at_a_time_and_a_hub_that_cannot_be_reached(hub, town):
    from county_app.operations.instance import DataFolderLock

    with DataFolderLock(town, "sync.lock"):
        busy = cli(town, "sync", "run", check=False)
    assert busy.returncode == 1 and "同步正在进行" in busy.stderr
    cli(town, "config", "set", "sync.url", f"http://127.0.0.1:{free_port()}")
    register_and_accept(town)
    down = cli(town, "sync", "run", check=False)
    assert down.returncode == 1 and "无法连接县级汇聚中心" in down.stderr and "不会丢失" in down.stderr
    assert rows(town, "select error != '' from sync_run") == [(1,)]
    assert count(town, "sync_outbox") == count(town, "case_event")  # still waiting to go


def test_node_commands_are_for_the_hub_and_init_takes_a_county_code(hub, town):
    refused = cli(town, "node", "add", "331128102000", "--name", "乙镇", check=False)
    assert refused.returncode == 1 and "只能在县级汇聚中心管理" in refused.stderr
    assert rows(hub, "select value from setting where key = 'county.code'") == [("331128",)]
    outside = hub.cli("node", "add", "330102001000", "--name", "外县", check=False)
    assert outside.returncode == 1 and "应以 331128 开头" in outside.stderr
    listed = hub.cli("node", "list").stdout
    assert CENTRE in listed and "城关镇" in listed and "从未同步" in listed
    secret = rows(hub, "select secret from sync_node")[0][0]
    assert hub.secret not in secret and len(secret) > 64  # kept encrypted, not in clear


def test_a_result_recorded_on_both_sides_is_a_conflict_on_both_and_overwrites_nothing(hub, town):
    (case_no,) = register_and_accept(town)
    sync(town)
    with at(hub):
        outcomes.record_result(case_no, "GA-0101", "approved", actor="gaj", result_no="HUB-1")
    with at(town):  # the same decision handed to the window on paper, typed differently
        outcomes.record_result(case_no, "GA-0101", "denied", actor="li", note="县公安局书面决定（窗口代录）")
    out = sync(town)
    assert "同步冲突 2 处" in out, out
    item = "select i.status, i.result_no from case_item i where i.matter_code = 'GA-0101'"
    assert rows(hub, item) == [("approved", "HUB-1")] and rows(town, item) == [("denied", "")]
    conflict = "select case_no, matter_code, action from sync_conflict"
    assert rows(hub, conflict) == rows(town, conflict) == [(case_no, "GA-0101", "result")]
    assert count(town, "case_event") == count(hub, "case_event")  # both acts are in both histories


RECORD_RESULTS = """
import sys
from county_app.intake import outcomes
from sync_nodes import Hub, at
hub = Hub.__new__(Hub)
hub.dir, hub.database_url = sys.argv[1], sys.argv[2] or None
with at(hub):
    for case_no in sys.argv[3:]:
        for code in ("WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "WJ-0103"):
            outcomes.record_result(case_no, code, "approved", actor="dept", result_no=f"R-{case_no[-4:]}-{code}")
"""


def test_downstream_numbering_holds_with_concurrent_writers_at_the_hub_while_the_township_pulls(hub, town):
    """Departments record results in three processes at once while the township runs again and again: every
    result arrives once (docs/sync.md: the downstream outbox is numbered under the node's lock)."""
    numbers = register_and_accept(town, 18)
    sync(town)
    writers = [subprocess.Popen([sys.executable, "-c", RECORD_RESULTS, str(hub.dir), hub.database_url or "",
                                 *numbers[n::3]], cwd=Path(__file__).parent, env=environment(hub.database_url))
               for n in range(3)]
    while any(writer.poll() is None for writer in writers):
        sync(town)
    assert [writer.returncode for writer in writers] == [0, 0, 0]
    sync(town)
    down = rows(hub, "select down_written from sync_node")[0][0]
    assert down == mark(town, "down.applied") == 18 * 6  # five results and the conclusion of each case
    assert rows(town, "select count(*), min(status), max(status) from case_item") == [(90, "approved", "approved")]
    assert count(town, "case_record", "status = 'concluded'") == 18
    assert rows(hub, EVENTS_BY_CASE) == rows(town, EVENTS_BY_CASE)
    assert count(hub, "sync_outbox") == 0


FIXTURES = Path(__file__).parent / "fixtures" / "schemas"


@pytest.mark.parametrize("version", ["0002_cases", "0011_case_search"])
def test_cases_made_before_the_exchange_existed_go_up_after_the_upgrade(version, hub, tmp_path):
    """A centre that worked with a version without the exchange: its cases and their whole history reach
    the hub at the first run after the upgrade (queued by the upgrade, oldest first, ahead of later changes)."""
    town = tmp_path / "old-town"
    town.mkdir()
    shutil.copyfile(FIXTURES / f"{version}.sqlite3", town / "county_app.sqlite3")
    cli(town, "init")
    cli(town, "config", "set", "sync.url", hub.url)
    cli(town, "config", "set", "sync.secret", hub.secret)
    old_events = count(town, "case_event")
    assert count(town, "sync_outbox") == old_events > 0
    # the hub must know the catalogue version the old cases name: the county imports it, then its current one
    cli(town, "catalogue", "export", str(tmp_path / "old.xlsx"))
    hub.cli("catalogue", "export", str(tmp_path / "current.xlsx"))
    hub.cli("catalogue", "import", "--allow-older", str(tmp_path / "old.xlsx"))
    hub.cli("catalogue", "import", str(tmp_path / "current.xlsx"))
    first = rows(town, "select min(case_no) from case_record")[0][0]
    with at(town):  # a change after the upgrade goes after them
        materials.log_material(first, "JMSFZ", "original_verified", actor="wangfang")
    sync(town)
    cases_sql = "select case_no, status, applicant_name from case_record order by case_no"
    assert rows(hub, cases_sql) == rows(town, cases_sql) and len(rows(hub, cases_sql)) == 2
    assert rows(hub, EVENTS_BY_CASE) == rows(town, EVENTS_BY_CASE)
    material = "select m.status from case_material m join case_record c on c.id = m.case_id " \
               "where c.case_no = ? and m.code = 'JMSFZ'"
    assert rows(hub, material, first) == rows(town, material, first) == [("original_verified",)]
    assert count(town, "sync_outbox") == 0
