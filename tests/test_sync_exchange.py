"""The exchange between two real processes over loopback: a hub served by ``county-app serve``, a township
running ``county-app sync run``, each on its own data folder (docs/sync.md)."""
import time

import pytest

from county_app.intake import cases, materials, outcomes, workflow
from county_app.intake.records import Case

from sync_nodes import CENTRE, at, cli, count, free_port, kill_hard, rows, served_hub, start_sync, township
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
    newer = Book().set("目录信息", 2, "内容", "2026.12-01").set("目录信息", 4, "内容", "2026-12-01")
    hub.cli("catalogue", "import", str(newer.save(tmp_path / "newer.xlsx")))

    out = sync(town)
    assert f"已上传变更 {township_events} 条，已下载变更 0 条，已更新事项目录为 2026.12-01" in out
    # the hub holds the case as the township does: items, checklist, every event
    assert rows(hub, "select status, applicant_name from case_record where case_no = ?", case_no) == \
        rows(town, "select status, applicant_name from case_record where case_no = ?", case_no)
    assert count(hub, "case_event") == township_events
    item_sql = ("select i.matter_code, i.department, i.status, i.due_date from case_item i join case_record c "
                "on c.id = i.case_id where c.case_no = ? order by i.position")
    assert rows(hub, item_sql, case_no) == rows(town, item_sql, case_no)
    material_sql = "select code, status, logged_by from case_material order by code"
    assert rows(hub, material_sql) == rows(town, material_sql)
    assert rows(town, "select version from catalogue_version order by id desc limit 1") == [("2026.12-01",)]
    # the workbook's 节假日 rows came with it
    holidays = ("select day, kind, name from calendar_day c join catalogue_version v on v.id = c.catalogue_id "
                "where v.version = '2026.12-01' order by day")
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
    assert runs == [(township_events, 0, "2026.12-01", "", 1), (0, 8, "", "", 1), (1, 0, "", "", 1),
                    (0, 0, "", "", 1)]


def test_a_run_killed_mid_way_then_a_new_run_completes_with_exact_counts(hub, town):
    register_and_accept(town, 60)  # about 3 batches of about 1 MB
    written = rows(town, "select value from sync_mark where name = 'up.written'")[0][0]
    assert written == count(town, "case_event")
    run = start_sync(town)
    deadline = time.monotonic() + 120
    while rows(hub, "select applied_through from sync_node")[0][0] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    kill_hard(run)  # as soon as the hub committed the first batch
    applied = rows(hub, "select applied_through from sync_node")[0][0]
    assert 0 < applied < written  # killed mid-run
    assert count(hub, "case_event") == applied  # whole batches only
    assert count(town, "sync_run", "ended_at is null") == 1  # the killed run shows as never finished
    acked = (rows(town, "select value from sync_mark where name = 'up.acked'") or [(0,)])[0][0]
    assert acked <= applied  # the township may have died before storing the hub's answer

    out = sync(town)
    assert rows(hub, "select applied_through from sync_node") == [(written,)]
    assert count(hub, "case_event") == count(town, "case_event") == written
    assert count(hub, "case_record") == count(town, "case_record") == 60
    assert count(town, "sync_outbox") == 0  # acknowledged, then forgotten
    # resumed after the last answer the township stored: what the hub had applied since was skipped, not doubled
    assert f"已上传变更 {written - acked} 条" in out


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
