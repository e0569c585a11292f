"""Checking uploaded scans against hostile files at the 20 MB limit, against an honest 20 MB scan as the baseline.

``python bench/scan_check_bench.py [--runs 3] [--only TEXT] [--no-in-process] [--old-regex]``

For every hostile file of tests/hostile_scans.py, built at the upload limit
(scans.MAX_SCAN_BYTES), prints:

- ``checked``: the worst of RUNS checks as the server runs them
  (``scans.inspect``: the checker child process, with its hard time limit
  scanworker.CHECK_SECONDS), and its ratio to the baseline: the median check
  of an honest 20 MB scan (a 10-page PDF of JPEG pages, a 10-page TIFF), in
  the same run;
- ``stall``: the longest another thread of this process waited for the
  interpreter lock meanwhile (a thread that sleeps 1 ms at a time; a server's
  other requests would wait as long);
- ``in-process``: the same parsers (scanfile.inspect) run once in this
  process without any time limit, and the stall they cause: why the server
  does not run them in its own process;
- what the server answers.

It also prints what starting the checker process costs (paid once by
``serve``, and after each kill).

``--old-regex`` also times the page count the server used before issue 7
(the ``_PDF_COUNT`` regex) on the reported 108 KB file: one C call that holds
the interpreter lock throughout. Figures, not a test: the exit status says
only whether the run itself worked.
"""
import argparse
import logging
import re
import statistics
import sys
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import hostile_scans  # noqa: E402  (tests/ is not a package)
from county_app.intake import scanfile, scans, scanworker  # noqa: E402
from county_app.intake.errors import Invalid  # noqa: E402

_OLD_PDF_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", re.S)


class Ticker:
    """A thread that sleeps 1 ms at a time and records the longest gap between two wake-ups."""

    def __enter__(self):
        self.longest, self.running = 0.0, True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        last = time.perf_counter()
        while self.running:
            time.sleep(0.001)
            now = time.perf_counter()
            self.longest, last = max(self.longest, now - last), now

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def timed(check, data):
    """(seconds, longest stall, outcome) of ``check(data)``, the checker process ready beforehand."""
    scanworker.warm(wait=True)  # a kill's replacement is started at once; its start is not the next check's time
    with Ticker() as ticker:
        start = time.perf_counter()
        try:
            kind, pages = check(data)
            outcome = f"accepted: {kind}, {pages} pages"
        except (Invalid, scanfile.Refused) as exc:
            outcome = "422 " + exc.message
        seconds = time.perf_counter() - start
    return seconds, ticker.longest, outcome


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="only the hostile files whose name contains this")
    parser.add_argument("--no-in-process", action="store_true", help="skip running the parsers in this process")
    parser.add_argument("--old-regex", action="store_true", help="also time the old regex on the reported file")
    args = parser.parse_args()
    from PIL import Image
    warnings.simplefilter("error", Image.DecompressionBombWarning)  # as in the checker process
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # likewise: not a line per broken object
    size = scans.MAX_SCAN_BYTES
    print(f"limit {size / 2**20:.0f} MB; check time limit {scanworker.CHECK_SECONDS:g} s; page cap "
          f"{scanfile.MAX_PAGES}; Python {sys.version.split()[0]}")
    scans.inspect(hostile_scans.page_pdf(1))  # the checker process is up and has loaded its parsers
    starts = []
    for _ in range(3):
        scanworker.stop()
        start = time.perf_counter()
        scanworker.warm(wait=True)
        starts.append(time.perf_counter() - start)
    print(f"starting the checker process (spawn, import pypdf and Pillow): median {statistics.median(starts):.2f} s")

    baseline = []
    for name, make in (("pdf", hostile_scans.normal_pdf), ("tiff", hostile_scans.normal_tiff)):
        data = make(size)
        runs = [timed(scans.inspect, data) for _ in range(max(5, args.runs))]
        seconds = statistics.median(run[0] for run in runs)
        baseline.append(seconds)
        print(f"baseline: honest {name} {len(data) / 2**20:.1f} MB: median {seconds * 1000:.0f} ms, "
              f"stall {max(run[1] for run in runs) * 1000:.0f} ms, {runs[0][2]}")
    normal = max(baseline)
    print(f"ratio base: {normal * 1000:.0f} ms (the slower of the two)\n")

    header = f"{'hostile file':48} {'MB':>5} {'checked':>8} {'ratio':>6} {'stall':>6}   {'in-process':>10} {'stall':>6}"
    print(header + "   answer")
    worst = 0.0
    for name, make in hostile_scans.HOSTILE.items():
        if args.only not in name:
            continue
        data = make(size)
        runs = [timed(scans.inspect, data) for _ in range(args.runs)]
        seconds, stall = max(run[0] for run in runs), max(run[1] for run in runs)
        worst = max(worst, seconds)
        if args.no_in_process:
            inside = "-", "-"
        else:
            inside_seconds, inside_stall, _ = timed(scanfile.inspect, data)
            inside = f"{inside_seconds:9.2f}s", f"{inside_stall * 1000:4.0f}ms"
        print(f"{name:48} {len(data) / 2**20:5.1f} {seconds:7.2f}s {seconds / normal:6.0f} {stall * 1000:4.0f}ms"
              f"   {inside[0]:>10} {inside[1]:>6}   {runs[-1][2][:70]}", flush=True)
    print(f"\nworst checked: {worst:.2f} s = {worst / normal:.0f} × the honest scan; "
          f"hard limit {scanworker.CHECK_SECONDS:g} s (+ restarting the checker after a kill)")

    if args.old_regex:
        data = hostile_scans.count_tokens()
        with Ticker() as ticker:
            start = time.perf_counter()
            _OLD_PDF_COUNT.findall(data)
            seconds = time.perf_counter() - start
        print(f"before issue 7: the _PDF_COUNT regex on the reported {len(data) // 1024} KB file: "
              f"{seconds:.1f} s, stall {ticker.longest:.1f} s")
    scanworker.stop()


if __name__ == "__main__":
    main()
