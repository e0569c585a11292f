"""Offline files (docs/sync.md): ``sync export`` and ``sync import`` between two data folders, each command a
process of its own, both ways, applied once however often imported; tampered, misaddressed, foreign, revoked
and inflating files refused with nothing changed."""
import hashlib
import json
import zipfile

import pytest

from county_app.intake import outcomes
from county_app.intake.records import Case
from county_app.sync import envelope

from conftest import sample_pdf
from sync_nodes import CENTRE, COUNTY, Hub, at, cli, command, count, rows
from test_sync_exchange import hub_database, register_and_accept  # noqa: F401 (a fixture)
from test_sync_scans import case_with_scan
from workbooks import Book

OTHER = "331128102000"


@pytest.fixture
def hub(tmp_path, hub_database):
    """A hub (not served: files need no network), on SQLite or PostgreSQL, with the township CENTRE registered."""
    return Hub(tmp_path / "hub", hub_database)


@pytest.fixture
def secret(hub):
    return hub.secret


@pytest.fixture
def town(tmp_path, secret):
    folder = tmp_path / "town"
    folder.mkdir()
    cli(folder, "init", "--code", CENTRE, "--name", "城关镇便民服务中心")
    cli(folder, "config", "set", "sync.secret", secret)
    return folder


@pytest.fixture
def usb(tmp_path):
    folder = tmp_path / "usb"
    folder.mkdir()
    return folder


def export(side, usb, *options):
    """(the file, the output) of ``sync export`` at a township's folder or the hub."""
    out = command(side, "sync", "export", str(usb), *options).stdout
    return usb / out.split("已导出同步文件 ")[1].split("：")[0], out


def state(folder):
    """What an import may change, for the 'nothing changed' checks."""
    return [count(folder, table) for table in ("case_record", "case_event", "scan", "sync_outbox", "sync_scan")] + \
        rows(folder, "select name, value from sync_mark order by name") + \
        rows(folder, "select applied_through, down_written from sync_node order by code")


def test_the_exchange_by_usb_stick_both_ways_applied_once(hub, town, usb, tmp_path):
    numbers = register_and_accept(town, 2)
    _case_no, sha = case_with_scan(town, sample_pdf(1))
    written = count(town, "case_event")
    up, out = export(town, usb)
    assert f"变更 {written} 条（1 批），扫描件 1 个" in out, out
    assert up.name.startswith(f"sync-{CENTRE}-to-{COUNTY}-")

    out = hub.cli("sync", "import", str(up)).stdout
    assert f"已导入同步文件：记入变更 {written} 条（1 批），扫描件 1 个" in out, out
    assert "核对最近 31 天：一致" in out, out  # the file carries the township's figures (docs/sync.md)
    assert rows(hub, "select count(*), sum(township_events), sum(hub_events) from sync_reconciliation") \
        == [(31, written, written)]
    assert count(hub, "case_event") == written and count(hub, "case_record") == 3
    stored = hub.dir / rows(hub, "select path from scan where sha256 = ?", sha)[0][0]
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    assert count(hub, "sync_scan") == 0
    before = state(hub)
    assert "记入变更 0 条" in hub.cli("sync", "import", str(up)).stdout  # again: applied once
    assert state(hub) == before

    # the hub answers: results recorded by a department, a newer catalogue
    with at(hub):
        outcomes.record_result(numbers[0], "GA-0101", "approved", actor="gaj", result_no="HUB-1")
    newer = Book().set("目录信息", 2, "内容", "2026.12-02").set("目录信息", 4, "内容", "2026-12-01")
    hub.cli("catalogue", "import", str(newer.save(tmp_path / "newer.xlsx")))
    down, out = export(hub, usb, "--node", CENTRE)
    assert "变更 1 条（1 批）" in out, out
    out = cli(town, "sync", "import", str(down)).stdout
    assert f"记入变更 1 条（1 批），汇聚中心确认已收到本机变更 {written} 条，已更新事项目录为 2026.12-02" in out, out
    assert rows(town, "select result_no from case_item where result_no != ''") == [("HUB-1",)]
    assert count(town, "sync_outbox") == count(town, "sync_scan") == 0  # the hub holds them: forgotten here
    before = state(town)
    assert "记入变更 0 条" in cli(town, "sync", "import", str(down)).stdout
    assert state(town) == before

    # the township's next file tells the hub what came down; the hub forgets it
    _next, out = export(town, usb)
    assert "变更 0 条（0 批）" in out
    assert count(hub, "sync_outbox") == 1
    hub.cli("sync", "import", str(_next))
    assert count(hub, "sync_outbox") == 0
    assert count(town, "case_event") == count(hub, "case_event")


def test_tampered_misaddressed_unknown_and_revoked_files_are_refused_and_change_nothing(hub, town, usb, tmp_path):
    register_and_accept(town)
    up, _ = export(town, usb)
    before = state(hub)

    def refused(folder, path, words):
        done = command(folder, "sync", "import", str(path), check=False)
        assert done.returncode == 1 and words in done.stderr, done.stdout + done.stderr
        assert state(folder) == snapshot[folder]

    snapshot = {hub: before, town: state(town)}
    data = up.read_bytes()
    tampered = usb / "tampered.sync"
    tampered.write_bytes(data[:-200] + bytes([data[-200] ^ 1]) + data[-199:])  # one bit of the payload
    refused(hub, tampered, "内容与签名不符")
    header_end = data.index(b"\n", len(envelope.MAGIC))
    header = json.loads(data[len(envelope.MAGIC):header_end])
    forged = usb / "forged.sync"  # the header changed: the signature no longer fits
    forged.write_bytes(envelope.MAGIC + json.dumps({**header, "created": "2020-01-01"}).encode() + data[header_end:])
    refused(hub, forged, "签名不对")
    truncated = usb / "truncated.sync"
    truncated.write_bytes(data[:len(data) // 2])
    refused(hub, truncated, "没有复制完整")
    (usb / "note.sync").write_text("随便写的")
    refused(hub, usb / "note.sync", "这不是同步文件")
    refused(town, up, "不是发给本机")  # the township's own file, for the hub

    # a hub file for another township
    hub.cli("node", "add", OTHER, "--name", "乙镇")
    other, _ = export(hub, usb, "--node", OTHER)
    snapshot[hub] = state(hub)
    refused(town, other, f"是发给 {OTHER} 的")
    # a file from a node the hub does not know, or has revoked
    stranger = tmp_path / "hub2"
    stranger.mkdir()
    cli(stranger, "init", "--role", "hub", "--code", COUNTY, "--name", "安澜县")
    snapshot[stranger] = state(stranger)
    refused(stranger, up, f"节点 {CENTRE} 未在县级汇聚中心登记")
    hub.cli("node", "revoke", CENTRE)
    snapshot[hub] = state(hub)
    refused(hub, up, "已被县级汇聚中心停用")
    assert "sync file refused" in (hub.dir / "logs" / "county-app.log").read_text(encoding="utf-8")


def test_a_signed_file_whose_members_would_inflate_is_refused(hub, secret, town, usb):
    register_and_accept(town)
    up, _ = export(town, usb)
    data = up.read_bytes()
    header_end = data.index(b"\n", len(envelope.MAGIC))
    header = json.loads(data[len(envelope.MAGIC):header_end])
    bomb = usb / "payload.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps({"batches": [], "pad": " " * 50_000_000}))
    payload = bomb.read_bytes()
    line = json.dumps({**header, "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}).encode() + b"\n"
    signed = usb / "bomb.sync"  # signed with the true secret: only the limits stop it
    signed.write_bytes(envelope.MAGIC + line + envelope.signature(secret, line).encode() + b"\n" + payload)
    before = state(hub)
    done = hub.cli("sync", "import", str(signed), check=False)
    assert done.returncode == 1 and "经过压缩" in done.stderr, done.stderr
    assert state(hub) == before



def test_a_case_lost_at_the_hub_is_named_when_the_file_is_imported_again(hub, town, usb):
    first, second = register_and_accept(town, 2)
    up, _ = export(town, usb)
    hub.cli("sync", "import", str(up))
    with at(hub):  # lost behind the program's back
        Case.delete().where(Case.case_no == second).execute()
    out = hub.cli("sync", "import", str(up)).stdout  # nothing new to apply; reconciled again
    assert "记入变更 0 条" in out and "核对最近 31 天：1 天不一致" in out, out
    differences = rows(hub, "select differences from sync_reconciliation where differences_total > 0")
    assert len(differences) == 1 and [d["case_no"] for d in json.loads(differences[0][0])] == [second]
