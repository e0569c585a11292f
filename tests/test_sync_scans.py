"""Scans go up with their case in resumable chunks (docs/sync.md, Scans), between real processes over loopback,
also through a proxy that cuts the link every few hundred KB; and a full run through that proxy converges."""
import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from county_app.intake import cases, outcomes, scans, workflow
from county_app.sync import batches, signing
from county_app.sync.hub import scan_path
from county_app.sync.records import SyncScan

from flaky_proxy import FlakyProxy
from sync_nodes import CENTRE, at, cli, count, rows, served_hub, township
from test_cases_domain import newborn, supply_all_but_marriage_certificate
from test_sync_exchange import register_and_accept
from test_sync_refusals import outbox_batch, post
from workbooks import Book

MB = 1024 * 1024


@pytest.fixture
def hub(tmp_path):
    with served_hub(tmp_path / "hub") as node:
        yield node


@pytest.fixture
def town(tmp_path, hub):
    return township(tmp_path / "town", hub)


def big_pdf(size=scans.MAX_SCAN_BYTES):
    """A one-page PDF of exactly ``size`` bytes: an unreferenced stream of varied bytes fills the room."""
    head = b"%PDF-1.4\n"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]

    def build(filler):
        out, offsets = bytearray(head), []
        for number, body in enumerate([*objects, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(filler), filler)],
                                      start=1):
            offsets.append(len(out))
            out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
        xref = len(out)
        out += f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode()
        out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
        out += f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
        return bytes(out)

    room = size
    for _ in range(3):  # the digits of /Length and startxref grow with the room
        room = size - (len(build(b"x" * room)) - room)
    pattern = b"".join(hashlib.sha256(str(n).encode()).digest() for n in range(4096))
    data = build((pattern * (room // len(pattern) + 1))[:room])
    assert len(data) == size
    return data


def case_with_scan(folder, data):
    """A case of story 1 with ``data`` attached as its marriage certificate, accepted; (case number, SHA-256)."""
    with at(folder):
        case = cases.register_case(**newborn(), actor="li")
        supply_all_but_marriage_certificate(case.case_no, "li")
        answer = scans.attach_scan(case.case_no, "JHZ", data, "结婚证.pdf", actor="li")
        workflow.accept_case(case.case_no, actor="li")
    return case.case_no, answer["scans"][0]["sha256"]


def hub_port(hub):
    return urllib.parse.urlsplit(hub.url).port


def open_scan_at_hub(hub, case_no, sha):
    """The bytes of the hub's scan page for the case (the existing view), fetched as its administrator."""
    token = cli(hub.dir, "token", "issue", "admin").stdout.strip().splitlines()[-1]
    request = urllib.request.Request(f"{hub.url}/cases/{case_no}/scans/{sha}",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.read()


def test_a_20_mb_scan_arrives_over_a_link_that_drops_every_few_hundred_kb(hub, town):
    data = big_pdf()
    case_no, sha = case_with_scan(town, data)
    with FlakyProxy(hub_port(hub), cut_every=(200_000, 600_000)) as proxy:
        cli(town, "config", "set", "sync.url", proxy.url)
        out = cli(town, "sync", "run").stdout
    assert proxy.cuts >= 20, proxy.cuts  # 20 MB through cuts every 200–600 KB
    assert "已上传扫描件 1 个（20.0 MB）" in out, out
    stored = hub.dir / rows(hub.dir, "select path from scan where sha256 = ?", sha)[0][0]
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha and stored.stat().st_size == len(data)
    assert count(hub.dir, "sync_scan") == count(town, "sync_scan") == 0  # nothing awaited, nothing waiting
    assert not list((hub.dir / "sync_incoming").rglob("*.part"))
    link = ("select m.code, l.filename, l.attached_by from case_material_scan l join case_material m "
            "on m.id = l.material_id")
    assert rows(hub.dir, link) == rows(town, link) == [("JHZ", "结婚证.pdf", "li")]
    # the hub's case shows its scan through the view the township has
    assert hashlib.sha256(open_scan_at_hub(hub, case_no, sha)).hexdigest() == sha
    # a second run, on a good link, sends nothing again
    cli(town, "config", "set", "sync.url", hub.url)
    assert "扫描件" not in cli(town, "sync", "run").stdout


def test_a_scan_resumes_at_the_offset_the_hub_holds(hub, town):
    data = big_pdf(3 * MB + 12345)
    case_no, sha = case_with_scan(town, data)
    body = batches.encode(outbox_batch(town))
    assert post(hub, body)[0] == 200  # the case went up; its file did not
    assert rows(hub.dir, "select node, sha256 from sync_scan") == [(CENTRE, sha)]
    with pytest.raises(urllib.error.HTTPError) as missing:  # the case page's link says why it cannot open yet
        open_scan_at_hub(hub, case_no, sha)
    assert missing.value.code == 404 and "还没有从乡镇传到县级汇聚中心" in missing.value.read().decode()
    assert head(hub, sha) == (200, 0, len(data))
    assert put(hub, sha, 0, data[:MB])[0] == 200  # then the link went down
    assert head(hub, sha) == (200, MB, len(data))
    out = cli(town, "sync", "run").stdout
    assert "已上传扫描件 1 个（2.0 MB）" in out, out  # only what the hub lacked
    assert rows(town, "select scans, scan_bytes from sync_run") == [(1, len(data) - MB)]  # the 同步 page's list
    assert hashlib.sha256(open_scan_at_hub(hub, case_no, sha)).hexdigest() == sha


def test_chunks_refused_at_a_wrong_offset_past_the_end_unknown_unsigned_or_with_a_wrong_sha256(hub, town):
    data = big_pdf(2 * MB)
    _case_no, sha = case_with_scan(town, data)
    assert post(hub, batches.encode(outbox_batch(town)))[0] == 200
    status, answer = put(hub, sha, 5, data[:10])
    assert status == 409 and answer["offset"] == 0 and "从那里续传" in answer["error"]["message"]
    assert put(hub, sha, 0, data + b"x")[0] == 413  # more than one chunk's limit
    assert put(hub, sha, 0, b"")[0] == 400
    assert put(hub, "0" * 64, 0, data[:10])[0] == 404  # no change of this node named it
    assert put(hub, sha, 0, data[:10], secret="0" * 64)[0] == 401
    # every chunk arrives, but the content is not the file its name says: refused, the partial upload discarded
    forged = bytearray(data)
    forged[-100] ^= 1
    assert put(hub, sha, 0, bytes(forged[:MB]))[0] == 200
    status, answer = put(hub, sha, MB, bytes(forged[MB:]))
    assert status == 422 and "校验不符" in answer["error"]["message"], answer
    assert head(hub, sha) == (200, 0, len(data))
    assert not list((hub.dir / "sync_incoming").rglob("*.part"))
    assert count(hub.dir, "sync_scan") == 1  # still awaited: the next run sends it again
    assert "bad_checksum" in hub.log.read_text()
    refusals = [code for (code,) in rows(hub.dir, "select code from sync_refusal")]
    assert "bad_checksum" in refusals and "offset" not in refusals  # resuming is no trouble for the hub's page
    # the township's own run then sends the true file
    assert "已上传扫描件 1 个" in cli(town, "sync", "run").stdout


def test_a_whole_run_through_a_flaky_link_converges_with_exact_counts(hub, town, tmp_path):
    numbers = register_and_accept(town, 40)
    case_no, sha = case_with_scan(town, big_pdf(3 * MB))
    numbers.append(case_no)
    newer = Book().set("目录信息", 2, "内容", "2026.12-02").set("目录信息", 4, "内容", "2026-12-01")
    cli(hub.dir, "catalogue", "import", str(newer.save(tmp_path / "newer.xlsx")))
    with FlakyProxy(hub_port(hub), cut_every=(100_000, 400_000), seed=7) as proxy:
        cli(town, "config", "set", "sync.url", proxy.url)
        runs = until_done(town)
        with at(hub.dir):  # departments record results at the hub; they come back through the same link
            for number in numbers[:10]:
                outcomes.record_result(number, "GA-0101", "approved", actor="gaj", result_no=f"R-{number[-4:]}")
        runs += until_done(town)
    assert proxy.cuts >= 5, proxy.cuts
    events = count(town, "case_event")
    assert count(hub.dir, "case_event") == events
    assert rows(hub.dir, "select applied_through from sync_node") == [(events - 10,)]  # the hub's results came down
    assert count(hub.dir, "case_record") == count(town, "case_record") == 41
    assert count(town, "case_item", "result_no like 'R-%'") == 10
    assert count(town, "sync_outbox") == count(town, "sync_scan") == count(hub.dir, "sync_scan") == 0
    assert rows(town, "select version from catalogue_version order by id desc limit 1") == [("2026.12-02",)]
    stored = hub.dir / rows(hub.dir, "select path from scan where sha256 = ?", sha)[0][0]
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    assert runs <= 6


def until_done(town, most=5):
    """Run ``sync run`` until one completes (a run may give up after many drops in a row); how many ran."""
    for attempt in range(1, most + 1):
        if cli(town, "sync", "run", check=False).returncode == 0:
            return attempt
    raise AssertionError(f"no run completed in {most}")


def head(hub, sha):
    request = urllib.request.Request(hub.url + scan_path(sha), method="HEAD", headers=signing.signed_headers(
        CENTRE, hub.secret, "HEAD", scan_path(sha), b""))
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, int(answer.headers["X-Scan-Offset"]), int(answer.headers["X-Scan-Size"])
    except urllib.error.HTTPError as exc:
        return exc.code, None, None


def put(hub, sha, offset, chunk, *, secret=None):
    path = f"{scan_path(sha)}?offset={offset}"
    headers = signing.signed_headers(CENTRE, secret or hub.secret, "PUT", path, chunk)
    request = urllib.request.Request(hub.url + path, data=chunk, method="PUT",
                                     headers={**headers, "Content-Type": "application/octet-stream"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_the_township_page_counts_the_scans_waiting_to_go(hub, town):
    from county_app import create_app
    from conftest import serving
    from test_sync_pages import browser, users

    case_with_scan(town, big_pdf(MB + MB // 2))
    app = create_app(town, {"TESTING": True})
    users(town, ("boss", "admin"))
    with serving(app) as url:
        admin = browser(url, "boss")
        assert "<strong>1</strong> 个扫描件（共 1.5 MB）尚未上传" in admin.get("/sync")[2]
        cli(town, "sync", "run")
        assert "个扫描件" not in admin.get("/sync")[2]


def test_a_scan_the_hub_does_not_await_is_reported_and_the_run_still_brings_the_results_down(hub, town):
    first, _ = case_with_scan(town, big_pdf(200_000))
    second, forgotten = case_with_scan(town, big_pdf(300_000))
    assert post(hub, batches.encode(outbox_batch(town)))[0] == 200  # both cases went up, no file yet
    with at(hub):
        SyncScan.delete().where(SyncScan.sha256 == forgotten).execute()  # the hub no longer awaits it
        outcomes.record_result(first, "GA-0101", "approved", actor="gaj", result_no="HUB-1")
    done = cli(town, "sync", "run", check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 1 and f"县级汇聚中心没有在等待扫描件 {forgotten[:12]}" in output, output
    assert "已上传扫描件 1 个" in output and "Traceback" not in output
    item = "select c.case_no, i.result_no from case_item i join case_record c on c.id = i.case_id " \
           "where i.matter_code = 'GA-0101' order by c.case_no"
    assert rows(town, item) == [(first, "HUB-1"), (second, "")]  # the pull was not skipped
    assert rows(town, "select sha256 from sync_scan") == [(forgotten,)]  # still waiting, for the next run


def test_maintenance_at_the_hub_removes_partial_uploads_no_longer_awaited_or_left_for_a_month(hub, town):
    data = big_pdf(200_000)
    (_, dropped), (_, kept), (_, stale) = (case_with_scan(town, data + bytes([n])) for n in range(3))
    assert post(hub, batches.encode(outbox_batch(town)))[0] == 200
    for sha in (dropped, kept, stale):
        assert put(hub, sha, 0, data[:50_000])[0] == 200
    partial = {sha: hub.dir / "sync_incoming" / CENTRE / f"{sha}.part" for sha in (dropped, kept, stale)}
    with at(hub):
        SyncScan.delete().where(SyncScan.sha256 == dropped).execute()  # e.g. its node revoked meanwhile
    hours, days = 3600, 86400
    for sha, age in ((dropped, 2 * hours), (kept, 29 * days), (stale, 31 * days)):
        os.utime(partial[sha], (time.time() - age,) * 2)
    out = hub.cli("maintenance").stdout
    assert "已删除不再等待或长期未续传的扫描件上传残片 2 个" in out, out
    assert {sha: path.exists() for sha, path in partial.items()} == {dropped: False, kept: True, stale: False}
    assert head(hub, stale) == (200, 0, len(data) + 1)  # still awaited: it starts again from 0
