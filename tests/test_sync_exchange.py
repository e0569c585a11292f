"""The exchange between two real processes over loopback: a hub served by ``county-app serve``, a township
running ``county-app sync run``, each on its own data folder (docs/sync.md)."""
import pytest

from county_app import accounts
from county_app.intake import cases, materials, outcomes, workflow
from county_app.intake.records import Case

from sync_nodes import CENTRE, at, cli, count, rows, served_hub, township
from test_cases_domain import newborn, supply_all_but_marriage_certificate
from workbooks import Book


@pytest.fixture
def hub(tmp_path):
    with served_hub(tmp_path / "hub") as node:
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
    cli(hub.dir, "catalogue", "import", str(newer.save(tmp_path / "newer.xlsx")))

    out = sync(town)
    assert f"已上传变更 {township_events} 条，已下载变更 0 条，已更新事项目录为 2026.12-01" in out
    # the hub holds the case as the township does: items, checklist, every event
    assert rows(hub.dir, "select status, applicant_name from case_record where case_no = ?", case_no) == \
        rows(town, "select status, applicant_name from case_record where case_no = ?", case_no)
    assert count(hub.dir, "case_event") == township_events
    item_sql = ("select i.matter_code, i.department, i.status, i.due_date from case_item i join case_record c "
                "on c.id = i.case_id where c.case_no = ? order by i.position")
    assert rows(hub.dir, item_sql, case_no) == rows(town, item_sql, case_no)
    material_sql = "select code, status, logged_by from case_material order by code"
    assert rows(hub.dir, material_sql) == rows(town, material_sql)
    assert rows(town, "select version from catalogue_version order by id desc limit 1") == [("2026.12-01",)]
    # the workbook's 节假日 rows came with it
    holidays = ("select day, kind, name from calendar_day c join catalogue_version v on v.id = c.catalogue_id "
                "where v.version = '2026.12-01' order by day")
    assert rows(town, holidays) == rows(hub.dir, holidays) and rows(town, holidays)

    # departments record at the hub: a suspension and its end, then every result (the case concludes)
    with at(hub.dir):
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
    assert count(town, "case_event") == count(hub.dir, "case_event") == township_events + 8

    # the window delivers; that goes up, nothing comes back twice
    with at(town):
        outcomes.deliver_case(case_no, "window", actor="li")
    assert "已上传变更 1 条，已下载变更 0 条" in sync(town)
    assert rows(hub.dir, "select status from case_record where case_no = ?", case_no) == [("delivered",)]
    assert "已上传变更 0 条，已下载变更 0 条" in sync(town)
    assert count(town, "case_event") == count(hub.dir, "case_event")
    runs = rows(town, "select pushed, pulled, catalogue, error, ended_at is not null from sync_run order by id")
    assert runs == [(township_events, 0, "2026.12-01", "", 1), (0, 8, "", "", 1), (1, 0, "", "", 1),
                    (0, 0, "", "", 1)]
