"""Scanned materials: real small PDF, PNG, JPEG and TIFF files made here, recognised by content,
stored once by SHA-256 in the data folder, pages counted; fakes and big files refused."""
import hashlib
import io
import os
import struct
import zlib
from pathlib import Path

import pytest

from county_app import settings
from county_app.db import db
from county_app.intake import cases, materials, scans, workflow
from county_app.intake.errors import Conflict, Invalid, NotFound
from county_app.intake.records import MaterialScan, Scan

import hostile_scans
from conftest import sample_pdf
from hostile_scans import tiff_pages
from test_cases_domain import centre_window, register, supply_all_but_marriage_certificate


@pytest.fixture
def window(seeded_app, make_user):
    with centre_window(make_user) as people:
        yield people





def png():
    """A 1×1 grey PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


def jpeg():
    """A 1×1 grey baseline JPEG: one block, DC difference 0, then end of block."""
    def segment(marker, data):
        return b"\xff" + marker + struct.pack(">H", len(data) + 2) + data
    return (b"\xff\xd8" + segment(b"\xe0", b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + segment(b"\xdb", b"\x00" + b"\x01" * 64)
            + segment(b"\xc0", b"\x08\x00\x01\x00\x01\x01\x01\x11\x00")
            + segment(b"\xc4", b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00")
            + segment(b"\xc4", b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00")
            + segment(b"\xda", b"\x01\x01\x00\x00\x3f\x00") + b"\x3f" + b"\xff\xd9")




@pytest.mark.parametrize("make,kind,pages", [
    (lambda: sample_pdf(2), "pdf", 2), (png, "png", 1), (jpeg, "jpeg", 1), (lambda: tiff_pages(3), "tiff", 3),
])
def test_each_format_is_recognised_and_its_pages_counted(window, make, kind, pages):
    case = register(window.clerk)
    data = make()
    answer = scans.attach_scan(case.case_no, "SQB", data, "申请表.bin", actor=window.clerk)
    assert answer["status"] == "scanned" and answer["trust_level"] == "C" and answer["pages"] == pages
    (scan,) = answer["scans"]
    assert scan["kind"] == kind and scan["pages"] == pages and scan["filename"] == "申请表.bin"
    sha = hashlib.sha256(data).hexdigest()
    stored = Path(db.database).parent / "scans" / sha[:2] / (sha + scans.EXTENSIONS[kind])
    assert stored.read_bytes() == data


def test_content_not_name_decides(window):
    case = register(window.clerk)
    with pytest.raises(Invalid) as caught:
        scans.attach_scan(case.case_no, "SQB", "这其实是一段文字。\n".encode() * 50, "申请表.pdf", actor=window.clerk)
    assert caught.value.details[0]["field"] == "scan"
    answer = scans.attach_scan(case.case_no, "SQB", png(), "申请表.pdf", actor=window.clerk)
    assert answer["scans"][0]["kind"] == "png"


def test_over_twenty_megabytes_is_refused_before_storing(window):
    case = register(window.clerk)
    big = sample_pdf(1)[:-6] + b" " * (scans.MAX_SCAN_BYTES) + b"%%EOF\n"
    for source in (big, io.BytesIO(big)):
        with pytest.raises(Invalid) as caught:
            scans.attach_scan(case.case_no, "SQB", source, "big.pdf", actor=window.clerk)
        assert "20 MB" in caught.value.message
    assert not (Path(db.database).parent / "scans").exists()
    exactly = sample_pdf(1)[:-6] + b" " * (scans.MAX_SCAN_BYTES - len(sample_pdf(1))) + b"%%EOF\n"
    assert len(exactly) == scans.MAX_SCAN_BYTES
    assert scans.attach_scan(case.case_no, "SQB", io.BytesIO(exactly), "ok.pdf", actor=window.clerk)["pages"] == 1


def test_broken_files_are_refused(window):
    case = register(window.clerk)
    for data in (sample_pdf(2)[:-40], b"", b"II*\x00" + struct.pack("<I", 9999) + b"\x00" * 8):
        with pytest.raises(Invalid):
            scans.attach_scan(case.case_no, "SQB", data, "x", actor=window.clerk)


def test_same_file_is_stored_once(window):
    first, second = register(window.clerk), register(window.clerk)
    data = sample_pdf(2)
    scans.attach_scan(first.case_no, "SQB", data, "a.pdf", actor=window.clerk)
    again = scans.attach_scan(first.case_no, "SQB", data, "a-again.pdf", actor=window.clerk)
    scans.attach_scan(second.case_no, "JHZ", io.BytesIO(data), "b.pdf", actor=window.clerk)
    assert Scan.select().count() == 1 and MaterialScan.select().count() == 2
    assert len(again["scans"]) == 1 and again["case_version"] == 2  # the repeat changed nothing
    files = [p for p in (Path(db.database).parent / "scans").rglob("*") if p.is_file()]
    assert len(files) == 1
    both = scans.attach_scan(first.case_no, "SQB", tiff_pages(3), "page3.tif", actor=window.clerk)
    assert both["pages"] == 5 and len(both["scans"]) == 2  # several files for one material


def test_pages_inside_a_compressed_object_stream_are_counted(window):
    case = register(window.clerk)
    data = hostile_scans.object_stream_pdf(7)
    assert b"/Type /Page" not in data
    assert scans.attach_scan(case.case_no, "SQB", data, "a.pdf", actor=window.clerk)["pages"] == 7


def test_scan_of_unknown_material_or_rejected_case(window):
    case = register(window.clerk)
    with pytest.raises(NotFound):
        scans.attach_scan(case.case_no, "NOPE", png(), "x.png", actor=window.clerk)
    with pytest.raises(NotFound):
        scans.attach_scan("999", "SQB", png(), "x.png", actor=window.clerk)
    workflow.reject_case(case.case_no, "不属于本机关职权", actor=window.clerk)
    with pytest.raises(Conflict):
        scans.attach_scan(case.case_no, "SQB", png(), "x.png", actor=window.clerk)


def test_newest_file_of_the_scan_folder_in_one_call(window, tmp_path):
    case = register(window.clerk)
    with pytest.raises(Conflict) as caught:
        scans.attach_newest_scan(case.case_no, "SQB", actor=window.clerk)
    assert "scan.folder" in caught.value.message
    folder = tmp_path / "scanner"
    folder.mkdir()
    with db.atomic():
        settings.put("scan.folder", str(folder))
    with pytest.raises(NotFound):
        scans.attach_newest_scan(case.case_no, "SQB", actor=window.clerk)
    for age, (name, data) in enumerate([("old.pdf", sample_pdf(1)), ("newest.tif", tiff_pages(2)), ("older.png", png())]):
        path = folder / name
        path.write_bytes(data)
        os.utime(path, (1_700_000_000 - age * 60, 1_700_000_000 - age * 60))
    (folder / "~$half.pdf").write_bytes(b"%PDF-")
    assert scans.newest_scan_in_folder(folder).name == "old.pdf"
    os.utime(folder / "newest.tif", (1_800_000_000, 1_800_000_000))
    answer = scans.attach_newest_scan(case.case_no, "SQB", actor=window.clerk)
    assert answer["scans"][0]["filename"] == "newest.tif" and answer["pages"] == 2


def test_a_scanned_application_form_counts_at_acceptance(window):
    case = register(window.clerk)
    supply_all_but_marriage_certificate(case.case_no, window.clerk)
    materials.log_material(case.case_no, "SQB", "missing", actor=window.clerk)
    scans.attach_scan(case.case_no, "SQB", sample_pdf(3), "申请表.pdf", actor=window.clerk)
    scans.attach_scan(case.case_no, "JHZ", jpeg(), "结婚证.jpg", actor=window.clerk)
    shown = workflow.accept_case(case.case_no, actor=window.clerk)
    assert shown["status"] == "accepted"
    assert cases.case_json(cases.get_case(case.case_no, actor="test"))["events"][-1]["action"] == "accept"
