"""Catalogue import/export at county size, against openpyxl's own reading as the baseline.

Generates a catalogue of 2,000 matters, ~20,000 material rows, ~20,000 field
rows and 200 bundles, then measures, each in a fresh process (so peak memory
is that step's alone):

- baseline: openpyxl (read_only, data_only) iterating every row of every sheet;
- import:   ``store.import_workbook`` into an empty database (read, validate, write);
- export:   ``store.export_workbook`` of that catalogue.

Prints seconds, the import/baseline ratio (target ≤ 2.0) and peak RSS (target
< 150 MB). Run: ``make bench`` or ``.venv/bin/python bench/catalogue_bench.py``.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MATTERS, MATERIALS_PER_MATTER, FIELDS_PER_MATTER, BUNDLES = 2000, 10, 10, 200
SHARED_MATERIALS, SHARED_FIELDS = 600, 400


def generate(path, version="bench-1"):
    from county_app.catalogue import model
    from county_app.catalogue.xlsx_write import write_workbook

    departments = [f"县第{i}局" for i in range(1, 41)]
    cat = model.Catalogue(model.CatalogueInfo(version, "县政务服务管理办公室", date(2026, 11, 1), "330100"))
    for i in range(MATTERS):
        code = f"M{i:05d}"
        instant = i % 10 == 0
        cat.matters.append(model.Matter(code, f"测试事项{i}号审批", "licence", departments[i % 40],
                                        "instant" if instant else "promised", 0 if instant else 20,
                                        0 if instant else 10, 2, "不收费", f"结果{i}", "符合条件", "《某某条例》"))
        for j in range(MATERIALS_PER_MATTER):
            shared = (i * 7 + j * 13) % SHARED_MATERIALS
            cat.materials.append(model.Material(code, f"C{shared:04d}", f"材料{shared}", "original_and_copy", 1,
                                                "either", "applicant", "required" if j % 4 else "deferrable",
                                                "commitment" if j == 3 else None, "请提供清晰复印件"))
        for j in range(FIELDS_PER_MATTER):
            shared = (i * 5 + j * 11) % SHARED_FIELDS
            kind = ("text", "integer", "date", "single")[shared % 4]
            cat.fields.append(model.Field(code, f"F{shared:04d}", f"字段{shared}", kind, j % 2 == 0,
                                          ("甲", "乙", "丙") if kind == "single" else ()))
    for b in range(BUNDLES):
        bcode = f"B{b:03d}"
        cat.bundles.append(model.Bundle(bcode, f"测试一件事{b}", departments[b % 40], "person", "说明"))
        cat.questions.append(model.Question(bcode, "Q1", "是否需要全部办理？", ("是", "否"), "", 1))
        for k in range(5):
            cat.members.append(model.BundleMember(bcode, f"M{(b * 10 + k):05d}", k < 3,
                                                  "Q1=是" if k >= 3 else "", k + 1))
    cat.calendar.append(model.CalendarDay(date(2026, 10, 1), "rest", "国庆节"))
    write_workbook(cat, path)
    return len(cat.materials), len(cat.fields)


def step(kind, workbook, data_dir):
    """Run one measured step in this (fresh) process; print JSON with seconds and peak RSS."""
    import resource

    if kind == "baseline":
        import openpyxl

        started = time.perf_counter()
        wb = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
        rows = sum(1 for ws in wb.worksheets for _ in ws.iter_rows(values_only=True))
        wb.close()
        seconds = time.perf_counter() - started
    else:
        from county_app.bootstrap import initialise
        from county_app.catalogue import store
        from county_app.db import db

        initialise(data_dir, load_seed=False)
        with db.connection_context():
            started = time.perf_counter()
            if kind == "import":
                outcome = store.import_workbook(workbook, actor="bench")
                assert outcome.status == "applied", outcome.errors[:5]
            else:
                store.export_workbook(Path(data_dir) / "export.xlsx")
            seconds = time.perf_counter() - started
        rows = None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "rows": rows}))


def measure(kind, workbook, data_dir):
    out = subprocess.run([sys.executable, __file__, "--step", kind, str(workbook), str(data_dir)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(repeats=3):
    with tempfile.TemporaryDirectory() as tmp:
        workbook = Path(tmp) / "county.xlsx"
        started = time.perf_counter()
        materials, fields = generate(workbook)
        print(f"generated {MATTERS} matters, {materials} material rows, {fields} field rows, {BUNDLES} bundles "
              f"({workbook.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
        results = {"baseline": [], "import": [], "export": []}
        for run in range(repeats):
            for kind in results:
                data_dir = Path(tmp) / f"data-{kind}-{run}"
                if kind == "export":
                    data_dir = Path(tmp) / f"data-import-{run}"  # export what that run imported
                results[kind].append(measure(kind, workbook, data_dir))
        best = {kind: min(runs, key=lambda r: r["seconds"]) for kind, runs in results.items()}
        peak = {kind: max(r["peak_mb"] for r in runs) for kind, runs in results.items()}
        print(f"rows read by openpyxl: {best['baseline']['rows']}")
        for kind in results:
            print(f"{kind:9s} best of {repeats}: {best[kind]['seconds']:.2f} s   peak RSS {peak[kind]:.0f} MB")
        ratio = best["import"]["seconds"] / best["baseline"]["seconds"]
        print(f"import / openpyxl read = {ratio:.2f}  (target ≤ 2.00)")
        print(f"export / openpyxl read = {best['export']['seconds'] / best['baseline']['seconds']:.2f}")
        print(f"import peak RSS = {peak['import']:.0f} MB  (target < 150 MB)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--step":
        os.environ.setdefault("PYTHONHASHSEED", "0")
        step(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
