"""Sync conflicts resolved by an administrator on either side, between two real processes over loopback:
the choice is a change that travels through the outbox and closes the conflict on both sides."""
import pytest

from county_app.intake import outcomes
from county_app.intake.errors import Conflict
from county_app.sync import conflicts

from sync_nodes import at, count, rows
from test_sync_exchange import hub, register_and_accept, sync, town  # noqa: F401 (fixtures)


@pytest.fixture
def hub_database():
    """The hub on SQLite: these tests read its file (test_sync_exchange runs the exchange on PostgreSQL too)."""
    return None


ITEM = "select i.status, i.result_no from case_item i where i.matter_code = 'GA-0101'"
OPEN = "select count(*) from sync_conflict where resolved_at is null"
CHOSEN = "select chosen from sync_conflict"


def decided_on_both_sides(hub, town):
    """A case whose GA-0101 was approved at the hub and denied at the window before they met; its number."""
    (case_no,) = register_and_accept(town)
    sync(town)
    with at(hub.dir):
        outcomes.record_result(case_no, "GA-0101", "approved", actor="gaj", result_no="HUB-1")
    with at(town):
        outcomes.record_result(case_no, "GA-0101", "denied", actor="li", note="县公安局书面决定（窗口代录）")
    assert "同步冲突 2 处" in sync(town)
    return case_no


def resolve(folder, side):
    with at(folder):
        (shown,) = conflicts.listed()
        assert set(shown.values) == {"hub", "township"}
        conflicts.resolve(shown.conflict.id, side, actor="admin")


def test_the_window_resolves_for_the_hub_value_and_both_sides_hold_it(hub, town):
    case_no = decided_on_both_sides(hub, town)
    with at(town):
        (shown,) = conflicts.listed(case_no)
        assert shown.values["hub"]["result_no"] == "HUB-1" and shown.values["township"]["status"] == "denied"
    resolve(town, "hub")
    assert rows(town, ITEM) == [("approved", "HUB-1")] and rows(town, OPEN) == [(0,)]
    sync(town)
    assert rows(hub.dir, ITEM) == rows(town, ITEM) == [("approved", "HUB-1")]
    assert rows(hub.dir, OPEN) == rows(town, OPEN) == [(0,)]
    assert rows(hub.dir, CHOSEN) == rows(town, CHOSEN) == [("hub",)]
    assert count(town, "case_event") == count(hub.dir, "case_event")  # the choice is in both histories
    with at(town), pytest.raises(Conflict, match="已由 admin 处理"):
        conflicts.resolve(conflicts.listed(open_only=False)[0].conflict.id, "township", actor="admin")


def test_the_hub_resolves_for_the_window_value_and_it_comes_down(hub, town):
    decided_on_both_sides(hub, town)
    resolve(hub.dir, "township")
    assert rows(hub.dir, ITEM) == [("denied", "")]
    sync(town)
    assert rows(hub.dir, ITEM) == rows(town, ITEM) == [("denied", "")]
    assert rows(hub.dir, OPEN) == rows(town, OPEN) == [(0,)]
    assert rows(hub.dir, CHOSEN) == rows(town, CHOSEN) == [("township",)]


def test_both_sides_resolving_before_they_meet_end_with_the_hub_choice(hub, town):
    decided_on_both_sides(hub, town)
    resolve(town, "township")
    resolve(hub.dir, "hub")
    sync(town)
    assert rows(hub.dir, ITEM) == rows(town, ITEM) == [("approved", "HUB-1")]
    assert rows(hub.dir, OPEN) == rows(town, OPEN) == [(0,)]
    assert rows(hub.dir, CHOSEN) == rows(town, CHOSEN) == [("hub",)]
