"""Checking uploaded scans (issue 7, items 1 and 8): real files made by pypdf and Pillow count right; files that
are not real PDFs or images, or of more than 2,000 pages, are refused with a Chinese message and leave no file;
a check that overruns is ended; a refused write removes the file it wrote, never one another case names."""
import io
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter

from county_app.db import db
from county_app.intake import materials, scanfile, scans, scanworker
from county_app.intake.errors import Conflict, Invalid
from county_app.intake.records import MaterialScan, Scan

import hostile_scans
from test_cases_domain import centre_window, register


@pytest.fixture
def window(seeded_app, make_user):
    with centre_window(make_user) as people:
        yield people


def stored_files():
    folder = Path(db.database).parent / "scans"
    return sorted(path.name for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def pypdf_pdf(pages):
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pillow_file(kind, pages=1, mode="L", **options):
    frames = [Image.new(mode, (120, 170), 40 * index) for index in range(pages)]
    out = io.BytesIO()
    frames[0].save(out, kind, save_all=pages > 1, append_images=frames[1:], **options)
    return out.getvalue()


@pytest.mark.parametrize("make,kind,pages", [
    (lambda: pypdf_pdf(3), "pdf", 3),
    (lambda: pillow_file("PDF", 4, resolution=150), "pdf", 4),  # a scanner's PDF: one JPEG image a page
    (lambda: hostile_scans.page_pdf(scanfile.MAX_PAGES), "pdf", scanfile.MAX_PAGES),
    (lambda: pillow_file("JPEG", quality=80), "jpeg", 1),
    (lambda: pillow_file("JPEG", mode="RGB", progressive=True), "jpeg", 1),
    (lambda: pillow_file("PNG"), "png", 1),
    (lambda: pillow_file("TIFF", 5), "tiff", 5),
    (lambda: pillow_file("TIFF", 3, mode="1", compression="group4"), "tiff", 3),
    (lambda: pillow_file("TIFF", 2, mode="RGB", compression="tiff_lzw"), "tiff", 2),
])
def test_real_files_count_right(window, make, kind, pages):
    case = register(window.clerk)
    answer = scans.attach_scan(case.case_no, "SQB", make(), "扫描件", actor=window.clerk)
    assert answer["scans"][0]["kind"] == kind and answer["pages"] == pages


REFUSED = [  # (file, what the message says)
    (hostile_scans.count_tokens(), "PDF 文件已损坏"),  # the reported 108 KB file
    (hostile_scans.html_after_header(), "PDF 文件已损坏"),
    (hostile_scans.page_pdf(2)[:-40], "PDF 文件不完整"),
    (hostile_scans.cyclic_tree(), "PDF 文件已损坏"),
    (hostile_scans.shared_kids(), "超出了检查的限度"),
    (hostile_scans.deep_tree(20_000), "超出了检查的限度"),
    (hostile_scans.nested_arrays(20_000), "PDF 文件已损坏"),
    (hostile_scans.object_stream_bomb(200_000), "超出了检查的限度"),
    (hostile_scans.page_pdf(0), "没有页面"),
    (hostile_scans.png_junk(), "PNG 文件已损坏"),
    (hostile_scans.png_header(10, 10) + b"\x00" * 30, "PNG 文件已损坏"),
    (hostile_scans.png_bomb(), "图像过大"),
    (hostile_scans.jpeg_truncated(), "JPEG 文件已损坏"),
    (pillow_file("JPEG")[:-2], "JPEG 文件不完整"),
    (hostile_scans.jpeg_bomb(), "图像过大"),
    (hostile_scans.tiff_empty_chain(100_000), "TIFF 文件已损坏"),  # the old count: 16,665 pages
    (hostile_scans.tiff_page_then_empty_chain(100_000), "TIFF 文件已损坏"),
    (hostile_scans.tiff_bomb(), "图像过大"),
    (pillow_file("TIFF", 2)[:-20], "TIFF 文件第 2 页的图像数据超出了文件"),
]


def test_files_that_are_not_real_scans_are_refused_and_leave_no_file(window):
    case = register(window.clerk)
    for number, (data, said) in enumerate(REFUSED):
        with pytest.raises(Invalid) as caught:
            scans.attach_scan(case.case_no, "SQB", data, "x", actor=window.clerk)
        assert said in caught.value.message and "请" in caught.value.message, (number, caught.value.message)
        assert caught.value.details == [{"field": "scan", "message": caught.value.message}]
    assert stored_files() == [] and Scan.select().count() == 0


def test_more_than_two_thousand_pages_are_refused(window):
    case = register(window.clerk)
    for data in (hostile_scans.huge_declared_count(count=999_999_999_999),
                 hostile_scans.huge_declared_count(count=10 ** 23),  # 24 digits: once a 500 and an orphaned file
                 hostile_scans.page_pdf(scanfile.MAX_PAGES + 1),
                 hostile_scans.tiff_pages(scanfile.MAX_PAGES + 1)):
        with pytest.raises(Invalid) as caught:
            scans.attach_scan(case.case_no, "SQB", data, "x.pdf", actor=window.clerk)
        assert f"超过每个文件 {scanfile.MAX_PAGES} 页的上限" in caught.value.message
    assert stored_files() == [] and Scan.select().count() == 0


def test_a_check_that_overruns_is_ended_and_the_next_one_runs(window, monkeypatch):
    case = register(window.clerk)
    monkeypatch.setattr(scanworker, "CHECK_SECONDS", 0.2)
    slow = hostile_scans.no_xref(4 * hostile_scans.MB)  # pypdf rebuilds its xref: seconds, linear
    scanworker.warm(wait=True)
    killed = scanworker._checker
    with pytest.raises(Invalid) as caught:
        scans.attach_scan(case.case_no, "SQB", slow, "slow.pdf", actor=window.clerk)
    assert "0.2 秒内未能检查完" in caught.value.message
    assert not killed.process.is_alive() and scanworker._checker is not killed
    monkeypatch.setattr(scanworker, "CHECK_SECONDS", 5.0)
    assert scans.attach_scan(case.case_no, "SQB", pypdf_pdf(2), "a.pdf", actor=window.clerk)["pages"] == 2


def test_a_checker_that_died_is_replaced(window):
    case = register(window.clerk)
    scanworker.warm()
    scanworker._checker.process.kill()
    scanworker._checker.process.join()
    assert scans.attach_scan(case.case_no, "SQB", pypdf_pdf(1), "a.pdf", actor=window.clerk)["pages"] == 1


def test_a_checker_that_does_not_start_is_busy_not_the_files_fault(window, monkeypatch):
    """Found by the review of issue 7: the program's failure was answered 422 请重新扫描."""
    case = register(window.clerk)
    scanworker.stop()

    def never_ready(checker):
        raise EOFError("the checker process did not start")

    monkeypatch.setattr(scanworker._Checker, "wait_ready", never_ready)
    with pytest.raises(scanworker.Busy) as caught:
        scans.attach_scan(case.case_no, "SQB", pypdf_pdf(1), "a.pdf", actor=window.clerk)
    assert caught.value.status == 503 and "未能启动" in caught.value.message
    assert scanworker._checker is None
    monkeypatch.undo()
    assert scans.attach_scan(case.case_no, "SQB", pypdf_pdf(1), "a.pdf", actor=window.clerk)["pages"] == 1


def another_window_writes_first(monkeypatch, case_no, clerk):
    """Another window logs a material between the early check and the write transaction: the attach's
    transaction then finds a newer version and is refused after the file was written."""
    store = scans._store

    def store_then_race(data, sha, kind):
        relative = store(data, sha, kind)
        if not db.in_transaction():
            materials.log_material(case_no, "JMSFZ", "original_verified", actor=clerk)
        return relative

    monkeypatch.setattr(scans, "_store", store_then_race)


def test_a_write_refused_after_the_file_was_stored_removes_it(window, monkeypatch):
    case = register(window.clerk)
    another_window_writes_first(monkeypatch, case.case_no, window.clerk)
    with pytest.raises(Conflict):
        scans.attach_scan(case.case_no, "SQB", pypdf_pdf(2), "a.pdf", actor=window.clerk,
                          expected_version=case.version)
    assert stored_files() == [] and Scan.select().count() == 0


def test_a_file_another_case_names_is_kept(window, monkeypatch):
    first, second = register(window.clerk), register(window.clerk)
    data = pypdf_pdf(2)
    scans.attach_scan(first.case_no, "SQB", data, "a.pdf", actor=window.clerk)
    kept = stored_files()
    another_window_writes_first(monkeypatch, second.case_no, window.clerk)
    with pytest.raises(Conflict):
        scans.attach_scan(second.case_no, "SQB", data, "b.pdf", actor=window.clerk,
                          expected_version=second.version)
    assert stored_files() == kept and len(kept) == 1
    assert scans.scan_path(Scan.get()).read_bytes() == data and MaterialScan.select().count() == 1
