"""Hostile scans uploaded through the real waitress server (issue 7, items 1 and 8): the window keeps answering
while a file is checked, the file is refused with a 422 in Chinese, and nothing is left in the scans folder."""
import threading
import time
from pathlib import Path

import pytest

from county_app import accounts, settings
from county_app.db import db
from county_app.intake import materials, scans

import hostile_scans
from conftest import sample_pdf
from test_cases_api import Api
from test_cases_domain import CENTRE, newborn


@pytest.fixture
def clerk(live_server, make_user, data_dir):
    make_user("li", "clerk")
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        token = accounts.issue_token("li", actor="test").token
    return Api(live_server, token)


def scan_files(data_dir):
    folder = Path(data_dir) / "scans"
    return sorted(path.name for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def new_case(clerk):
    status, case = clerk.post("/api/v1/cases", newborn())
    assert status == 201, case
    return case["case_no"]


def upload_while_polling_health(clerk, path, data):
    """Upload ``data`` in a thread while this thread asks /api/v1/health; (upload answer, health latencies)."""
    answer, latencies = [], []
    uploading = threading.Thread(target=lambda: answer.append(clerk.upload(path, "scan", "扫描件.pdf", data)))
    uploading.start()
    while uploading.is_alive():
        start = time.perf_counter()
        status, _ = clerk.get("/api/v1/health")
        latencies.append(time.perf_counter() - start)
        assert status == 200
        time.sleep(0.05)
    uploading.join()
    return answer[0], latencies


def test_the_reported_pdf_is_refused_while_the_window_keeps_answering(clerk, data_dir):
    """Before: the 108 KB file held the interpreter lock for 16 s (8.6 s here), health waited as long."""
    case_no = new_case(clerk)
    (status, answer), latencies = upload_while_polling_health(
        clerk, f"/api/v1/cases/{case_no}/materials/SQB", hostile_scans.count_tokens())
    assert max(latencies) < 2.0, latencies
    assert status == 422 and answer["error"]["details"][0]["field"] == "scan", answer
    assert "请重新扫描" in answer["error"]["message"]
    assert scan_files(data_dir) == []


def test_a_check_that_runs_into_its_time_limit_holds_up_no_one(clerk, data_dir, monkeypatch):
    from county_app.intake import scanworker

    monkeypatch.setattr(scanworker, "CHECK_SECONDS", 1.5)
    case_no = new_case(clerk)
    slow = hostile_scans.no_xref(8 * hostile_scans.MB)  # seconds of pypdf rebuilding the xref table
    scanworker.warm(wait=True)
    (status, answer), latencies = upload_while_polling_health(
        clerk, f"/api/v1/cases/{case_no}/materials/SQB", slow)
    assert status == 422 and "1.5 秒内未能检查完" in answer["error"]["message"], answer
    assert len(latencies) >= 5 and max(latencies) < 1.0, latencies
    assert scan_files(data_dir) == []


def test_a_second_upload_waits_at_most_a_second_for_a_slow_check(clerk, data_dir, monkeypatch):
    """Two hostile uploads at once must not hold both server threads for the whole time limit."""
    from county_app.intake import scanworker

    monkeypatch.setattr(scanworker, "CHECK_SECONDS", 2.5)
    first, second = new_case(clerk), new_case(clerk)
    scanworker.warm(wait=True)
    slow = hostile_scans.no_xref(16 * hostile_scans.MB)
    answers = []
    uploading = threading.Thread(target=lambda: answers.append(
        clerk.upload(f"/api/v1/cases/{first}/materials/SQB", "scan", "扫描件.pdf", slow)))
    uploading.start()
    deadline = time.monotonic() + 10
    while not scanworker._lock.locked() and time.monotonic() < deadline:
        time.sleep(0.01)  # until the first check is under way
    assert scanworker._lock.locked()
    start = time.perf_counter()
    status, answer = clerk.upload(f"/api/v1/cases/{second}/materials/SQB", "scan", "扫描件.pdf", sample_pdf(1))
    waited = time.perf_counter() - start
    uploading.join()
    assert status == 503 and answer["error"]["code"] == "busy" and "请稍后再上传" in answer["error"]["message"]
    assert waited < 2.5, waited  # it waited up to 10 s before
    assert answers[0][0] == 422
    assert scan_files(data_dir) == []


@pytest.mark.parametrize("data,said", [
    (hostile_scans.huge_declared_count(count=999_999_999_999), "声明有 999999999999 页，超过每个文件 2000 页的上限"),
    (hostile_scans.huge_declared_count(count=10 ** 23), "超过每个文件 2000 页的上限"),  # was a 500 and an orphan
    (hostile_scans.tiff_empty_chain(), "TIFF 文件已损坏"),  # 20 MB: 3,495,252 empty directories, once as many pages
    (hostile_scans.html_after_header(), "PDF 文件已损坏"),
], ids=["count-12-digits", "count-24-digits", "tiff-empty-chain", "pdf-then-html"])
def test_hostile_uploads_are_422_and_leave_no_file(clerk, data_dir, data, said):
    case_no = new_case(clerk)
    status, answer = clerk.upload(f"/api/v1/cases/{case_no}/materials/SQB", "scan", "扫描件", data)
    assert status == 422 and said in answer["error"]["message"], answer
    assert answer["error"]["details"] == [{"field": "scan", "message": answer["error"]["message"]}]
    assert scan_files(data_dir) == []
    status, case = clerk.get(f"/api/v1/cases/{case_no}")
    assert case["version"] == 1 and next(m for m in case["materials"] if m["code"] == "SQB")["scans"] == []


def test_a_write_refused_after_the_file_was_stored_leaves_no_file(clerk, data_dir, monkeypatch):
    """Another window's write lands between the upload's first check and its transaction: 409, and the file the
    upload had stored is removed; a file another case names stays."""
    kept_case, case_no = new_case(clerk), new_case(clerk)
    data = sample_pdf(2)
    assert clerk.upload(f"/api/v1/cases/{kept_case}/materials/SQB", "scan", "a.pdf", data)[0] == 200
    kept = scan_files(data_dir)
    store = scans._store

    def store_then_race(data, sha, kind):
        relative = store(data, sha, kind)
        if not db.in_transaction():
            materials.log_material(case_no, "JMSFZ", "original_verified", actor=accounts.get_user("li"))
        return relative

    monkeypatch.setattr(scans, "_store", store_then_race)
    for content in (sample_pdf(3), data):  # a file of its own; the file the other case names
        version = clerk.get(f"/api/v1/cases/{case_no}")[1]["version"]
        status, answer = clerk.upload(f"/api/v1/cases/{case_no}/materials/SQB", "scan", "b.pdf", content,
                                      version=version)
        assert status == 409, answer
    assert scan_files(data_dir) == kept and len(kept) == 1


def test_a_scan_that_vanishes_from_the_scanner_folder_is_409_not_500(clerk, data_dir, tmp_path, monkeypatch):
    """Found by the review of issue 7: the newest file, moved after it was chosen, gave a 500."""
    folder = tmp_path / "scanner"
    folder.mkdir()
    (folder / "scan-0001.pdf").write_bytes(sample_pdf(1))
    with db.connection_context():
        with db.atomic():
            settings.put("scan.folder", str(folder))
    chosen = scans.newest_scan_in_folder

    def chosen_then_moved(where):
        newest = chosen(where)
        newest.rename(folder.parent / "moved.pdf")  # the scanner's software tidies up meanwhile
        return newest

    monkeypatch.setattr(scans, "newest_scan_in_folder", chosen_then_moved)
    case_no = new_case(clerk)
    status, answer = clerk.post(f"/api/v1/cases/{case_no}/materials/SQB", {"status": "scanned"})
    assert status == 409 and answer["error"]["code"] == "scan_busy" and "请稍候再试" in answer["error"]["message"]
    assert scan_files(data_dir) == []


def test_an_upload_to_a_case_in_the_wrong_state_is_refused_before_the_file_is_checked(clerk, monkeypatch):
    from county_app.intake import scanworker

    checked = []
    monkeypatch.setattr(scanworker, "check", lambda data: checked.append(len(data)) or ("pdf", 1))
    case_no = new_case(clerk)
    assert clerk.post(f"/api/v1/cases/{case_no}/reject", {"reason": "不属于本中心受理范围"})[0] == 200
    status, answer = clerk.upload(f"/api/v1/cases/{case_no}/materials/SQB", "scan", "扫描件.pdf", sample_pdf(1))
    assert status == 409 and checked == []
    status, answer = clerk.upload("/api/v1/cases/331128101000999999999999/materials/SQB", "scan", "a.pdf",
                                  sample_pdf(1))
    assert status == 404 and checked == []
