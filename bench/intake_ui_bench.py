"""A five-matter bundle at the window in a real browser: the clerk's keys, thinking and waits, against 180 s.

``python bench/intake_ui_bench.py [--runs 3]`` (``make bench-ui``)

Window story 1 promises "a trained clerk handles a five-matter bundle with
all papers present in under three minutes". With the seed catalogue in a
fresh data folder and ``county-app serve`` (waitress) on a free loopback
port, this drives Debian's chromium with Playwright by keyboard, as a clerk
would, through one intake of 新生儿出生一件事 with every paper present:
新办件 (Alt+N), ``xse``, three questions, the medical-insurance enrolment
unticked (five matters remain), the applicant, the merged form, 登记, each
必要 paper logged as the focus offers it (O 原件核验, C for a copy), 受理, and
the acceptance notice's print page (Alt+P). It estimates the clerk's time
with the Keystroke-Level Model (Card, Moran & Newell 1980). Figures, not a
test: the exit status says only whether the run itself worked.

- K (0.28 s) per key: each character typed, each key pressed, each key of
  a chord (Alt+N = 2). Chinese goes through a pinyin IME: full pinyin, one
  Space to commit each run (first candidate assumed: a lower bound for
  names); Shift toggles the IME for Latin letters (digits pass in either
  mode); a case starts in Chinese, as the previous one ended.
- P + B (1.1 + 0.1 s) per pointer click: none is needed.
- M (1.35 s) per mental preparation: before each field typed, each choice
  (a question, an optional matter kept or unticked, a form option, a paper
  logged, an optional field or the agent section left empty) and each
  command (新办件, opening the bundle, 登记, 受理, 打印). None for the Enter
  ending a typed field, Enters through prefilled fields, IME keys, the print
  dialog's Enter and closing its tab.
- R, the app: wall time from the key that starts a page load or a
  background refresh until the page is usable (loaded, focus where the next
  key goes), Playwright's round trips included. ID-number checks run while
  the clerk types on: not waits. Added in full (no overlap with M).
- Logging in (once a shift) is measured but not part of the case. Not
  modelled, the applicant's part: reading papers, asking, copying, signing,
  the printer; every ID number is typed (the reader's saving is printed).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake_bench import free_port, start_server, stop_server  # noqa: E402  (bench/ is not a package)
from county_app.server import THREADS  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from pypinyin import lazy_pinyin  # noqa: E402

K, P, B, M = 0.28, 1.1, 0.1, 1.35  # seconds: average skilled typist, pointing, click, mental preparation
TARGET, POLL_MS = 180.0, 10  # seconds of the story; milliseconds between checks while waiting
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]

CENTRE, CENTRE_NAME = "331128101000", "安澜县城关镇便民服务中心"
CLERK, PASSWORD = "wangfang", "chuangkou2026"
BUNDLE, SEARCH, UNTICK = "YJS-XSECS", "xse", "YB-0101"  # 新生儿出生一件事 minus 城乡居民医保参保登记
MOTHER_ID, FATHER_ID = "331128199203150245", "331128198805123610"
PHONE, ADDRESS = "13900139000", "安澜县城关镇幸福路1号"
BABY, BIRTHPLACE, FATHER, MOTHER = "张小宝", "安澜县人民医院", "张伟", "李娜"

PHASES = ("一次告知", "申请人", "申请表", "登记", "材料", "受理", "打印")
CHINESE = re.compile(r"[\u3400-\u9fff]+|[^\u3400-\u9fff]+")


def form_plan():
    """Per field after the matters: (type, text), (option, digit), (pass, prefilled value), (empty, a choice?)."""
    born = (date.today() - timedelta(days=20)).strftime("%Y%m%d")
    return {
        "kind": ("pass", "person"), "p.name": ("type", MOTHER), "p.id_number": ("type", MOTHER_ID),
        "p.phone": ("type", PHONE), "p.address": ("type", ADDRESS), "g.name": ("empty", True),
        "g.id_number": ("empty", False), "g.phone": ("empty", False), "g.relation": ("empty", False),
        "f.SQRXM": ("pass", MOTHER), "f.SFZH": ("pass", MOTHER_ID), "f.SJH": ("pass", PHONE),
        "f.ZZ": ("pass", ADDRESS), "f.XSEXM": ("type", BABY), "f.XSEXB": ("option", "1"),
        "f.XSECSRQ": ("type", born), "f.XSECSDD": ("type", BIRTHPLACE), "f.FQXM": ("type", FATHER),
        "f.FQSFZH": ("type", FATHER_ID), "f.MQXM": ("pass", MOTHER), "f.MQSFZH": ("pass", MOTHER_ID),
        "f.LHFS": ("option", "1"), "f.CKRXM": ("type", BABY), "f.CKRSFZH": ("empty", True),
        "f.LKFS": ("option", "1"),
    }


class Clerk:
    """Drives the page as a clerk would and books, per phase, the keys, clicks, thinking and waits."""

    def __init__(self, page, ime="zh"):
        self.page, self.ime, self.phase = page, ime, None
        self.book, self.typed, self.waits = {}, [], []

    def enter_phase(self, phase):
        self.phase = phase
        self.book.setdefault(phase, {"K": 0, "clicks": 0, "M": 0, "R": 0.0})

    def think(self):
        self.book[self.phase]["M"] += 1

    def spell(self, text):
        """The keys that enter ``text`` with a pinyin IME (⇧ toggles the IME or makes a capital, ␣ commits)."""
        keys = ""
        for run in CHINESE.findall(text):
            if "\u3400" <= run[0] <= "\u9fff":
                keys += ("⇧" if self.ime != "zh" else "") + "".join(lazy_pinyin(run)) + "␣"
                self.ime = "zh"
                continue
            for char in run:
                if char.isascii() and char.islower() and self.ime == "zh":
                    keys, self.ime = keys + "⇧", "en"
                keys += ("⇧" if char.isupper() else "") + char
        return keys

    def type(self, field, text, shown=None):
        """Type ``text`` into the focused field: Latin by key events, Chinese as the IME commits it."""
        keys = self.spell(text)
        self.book[self.phase]["K"] += len(keys)
        self.typed.append((self.phase, field, shown or text, keys if shown is None else "·" * len(keys)))
        for run in CHINESE.findall(text):
            if "\u3400" <= run[0] <= "\u9fff":
                self.page.keyboard.insert_text(run)
            else:
                self.page.keyboard.type(run)

    def press(self, key, send=True):
        """Press ``key`` (a chord counts each of its keys); ``send=False`` for a key outside the page."""
        self.book[self.phase]["K"] += len(key.split("+"))
        if send:
            self.page.keyboard.press(key)

    def wait(self, label, until, key=None):
        """Press ``key`` (if any) and time it with ``until()`` (which may press keys itself): the clerk waits."""
        started = time.perf_counter()
        if key:
            self.press(key)
        result = until()
        seconds = time.perf_counter() - started
        self.book[self.phase]["R"] += seconds
        self.waits.append((self.phase, label, seconds))
        return result

    def focused(self, script):
        return self.page.evaluate(f"(el => {script})(document.activeElement)")

    def focus_is(self, script, expected):
        self.page.wait_for_function(f"expected => ((el => {script})(document.activeElement)) === expected",
                                    arg=expected, polling=POLL_MS)

    def settled(self):
        self.page.wait_for_function("!document.querySelector('form#intake.is-refreshing')", polling=POLL_MS)


def log_in(clerk, base):
    page = clerk.page
    clerk.enter_phase("登录")
    clerk.wait("登录页", lambda: (page.goto(base + "/login"), clerk.focus_is("el.id", "username")))
    clerk.think()
    clerk.type("用户名", CLERK)
    clerk.press("Tab")
    clerk.think()
    clerk.type("密码", PASSWORD, shown="*" * len(PASSWORD))
    clerk.wait("登录 → 首页", lambda: page.wait_for_url(base + "/"), key="Enter")


def handle_case(clerk, base):
    """One whole intake, from 新办件 to the acceptance notice; gives the case (API JSON)."""
    clerk.ime = "zh"
    pick_bundle(clerk)
    fill_form(clerk)
    page = clerk.page
    clerk.enter_phase("登记")
    clerk.think()
    clerk.wait("登记 → 办件页", lambda: (page.wait_for_url(f"**/cases/{CENTRE}*"),
                                    clerk.focus_is("!!el.closest('tr[data-row]')", True)), key="Enter")
    case_no = page.url.rsplit("/", 1)[1]
    case = page.request.get(f"{base}/api/v1/cases/{case_no}").json()  # the checklist, outside the clock
    if len(case["items"]) != 5:
        raise RuntimeError(f"{len(case['items'])} matters applied for, not 5")
    log_papers(clerk, {m["code"]: m["form"] for m in case["materials"]})

    clerk.enter_phase("受理")
    clerk.think()
    clerk.wait("受理 → 已受理", lambda: navigate(clerk, "Enter", "!!document.querySelector('.status-accepted')"))

    clerk.enter_phase("打印")
    clerk.think()

    def open_notice():
        with page.context.expect_page() as opened:
            clerk.press("Alt+p")
        opened.value.wait_for_function("window.benchPrinted === true", polling=POLL_MS)  # autoprint on load
        return opened.value

    notice = clerk.wait("Alt+P → 受理通知书打印对话框", open_notice)
    if not notice.url.endswith(f"/cases/{case_no}/notices/acceptance") or case_no not in notice.content():
        raise RuntimeError(f"Alt+P opened {notice.url}, not the acceptance notice")
    clerk.press("Enter", send=False)  # the print dialog's 打印
    clerk.press("Control+w", send=False)  # close the notice's tab, back to the case
    notice.close()
    case = page.request.get(f"{base}/api/v1/cases/{case_no}").json()
    if case["status"] != "accepted" or not all(m["satisfied"] for m in case["materials"] if m["required"]):
        raise RuntimeError(f"case {case_no} ended {case['status']} with a required paper missing")
    return case


def navigate(clerk, key, ready):
    """Press ``key`` on a form's button; wait for the page it posts to to load and for ``ready`` (JS) to hold."""
    with clerk.page.expect_navigation(wait_until="load"):
        clerk.press(key)
    clerk.page.wait_for_function(ready, polling=POLL_MS)


def pick_bundle(clerk):
    """新办件 → ``xse`` → the bundle; answer the questions; keep the optional matters but one."""
    page = clerk.page
    clerk.enter_phase("一次告知")
    clerk.think()
    clerk.wait("Alt+N → 新办件", lambda: (page.wait_for_url("**/intake/new"), clerk.focus_is("el.id", "search-q")),
               key="Alt+n")
    clerk.think()
    clerk.type("查找", SEARCH)
    clerk.wait("查找 xse", lambda: (page.wait_for_url(f"**/intake/new?q={SEARCH}"),
                                   clerk.focus_is("el.textContent.includes('新生儿出生一件事')", True)), key="Enter")
    clerk.think()
    clerk.wait("打开一件事", lambda: (page.wait_for_url(f"**/intake/new?bundle={BUNDLE}"),
                                 clerk.focus_is("el.name", "q.Q1")), key="Enter")
    # Q4 (the parents' marriage) follows Q3=是; Q5: the mother applies, her own fields fill from her
    for question in ("Q1", "Q2", "Q3", "Q4", "Q5"):
        clerk.focus_is("el.name", f"q.{question}")
        clerk.think()
        clerk.wait(f"回答 {question} → 刷新", clerk.settled, key="1")  # 是; the lists follow, the focus moves on
    while clerk.focused("el.name") == "matters":
        value = clerk.focused("el.value")
        clerk.think()  # keep it or not
        if value == UNTICK:
            clerk.wait(f"去掉 {value} → 刷新", clerk.settled, key="Space")
        clerk.press("Enter")
        page.wait_for_function("v => document.activeElement.value !== v", arg=value, polling=POLL_MS)


def fill_form(clerk):
    """The applicant, the agent (none) and the merged form, field by field as the focus goes, to 登记."""
    plan, seen = form_plan(), set()
    while True:
        name, value, element_id = clerk.focused("[el.name, el.value, el.id]")
        if element_id == "register":
            break
        if name not in plan or name in seen:
            raise RuntimeError(f"the intake form asks for {name!r} ({element_id}), which this bench does not expect")
        seen.add(name)
        clerk.enter_phase("申请表" if name.startswith("f.") else "申请人")
        action, arg = plan[name]
        if action == "pass" and value != arg:
            raise RuntimeError(f"{name} shows {value!r}, expected it prefilled with {arg!r}")
        if action in ("type", "option") or (action == "empty" and arg):
            clerk.think()
        if action == "type":
            clerk.type(name, arg)
        clerk.press(arg if action == "option" else "Enter")  # a digit picks the option and moves on
        clerk.page.wait_for_function("n => document.activeElement.name !== n", arg=name, polling=POLL_MS)
    # Enter may pass over prefilled fields and the rest of an empty agent section; those need no keys.
    optional = {name for name, (action, arg) in plan.items() if action == "pass" or (action == "empty" and not arg)}
    if set(plan) - optional - seen:
        raise RuntimeError(f"the intake form did not ask for {sorted(set(plan) - optional - seen)}")
    for name in set(plan) - seen:
        action, arg = plan[name]
        if action == "pass" and clerk.page.input_value(f'[name="{name}"]') != arg:
            raise RuntimeError(f"{name} was passed over but does not hold {arg!r}")
    if clerk.page.locator("[aria-invalid=true]").count():
        raise RuntimeError("a field is marked invalid: " + clerk.page.locator(".field-error").first.inner_text())


def log_papers(clerk, forms):
    """Each 必要 paper as the focus offers it: C for a copy, O (原件核验) for the rest; ends on 受理."""
    clerk.enter_phase("材料")
    for _ in range(len(forms) + 1):
        row = clerk.focused("(el.closest('tr[data-row]') || el).id")
        if row == "accept-button":
            return
        code = row.removeprefix("m-")
        key = "c" if forms[code] == "copy" else "o"
        clerk.think()
        moved_on = f"(el => (el.closest('tr[data-row]') || el).id !== '{row}')(document.activeElement)"
        clerk.wait(f"{code} {key.upper()} → 办件页", lambda: navigate(clerk, key, moved_on))
    raise RuntimeError("the focus never reached 受理 after logging the papers")


# ----------------------------------------------------------------------------- setup and report


def prepare(data_dir):
    """A fresh data folder: the seed catalogue, the centre's code and name, and the clerk."""
    def run(*args, text=None):
        subprocess.run([sys.executable, "-m", "county_app", "--data-dir", str(data_dir), *args], input=text,
                       check=True, capture_output=True, text=True, cwd=ROOT)

    run("init", "--code", CENTRE, "--name", CENTRE_NAME)
    run("user", "add", CLERK, "--role", "clerk", "--display-name", "王芳", "--password-stdin", text=PASSWORD + "\n")


def run_once(browser, base):
    """Log in and handle one case in a fresh browser context; gives the clerk's books and the case number."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.add_init_script("window.print = function () { window.benchPrinted = true; };")  # no dialog headless
    page = context.new_page()
    page.set_default_timeout(30000)
    try:
        clerk = Clerk(page, ime="en")
        log_in(clerk, base)
        case = handle_case(clerk, base)
    finally:
        context.close()
    return {"clerk": clerk, "case_no": case["case_no"],
            "papers": sum(1 for m in case["materials"] if m["required"]), **figures(clerk.book, PHASES)}


def figures(book, phases):
    """Sums over ``phases`` and the KLM estimate: K·0.28 + clicks·(P + B) + M·1.35 + R."""
    out = {key: sum(book[p][key] for p in phases if p in book) for key in ("K", "clicks", "M", "R")}
    out["operators"] = out["K"] * K + out["clicks"] * (P + B) + out["M"] * M
    out["estimate"] = out["operators"] + out["R"]
    return out


def id_reader_saving(clerk):
    """(ID numbers, keys saved) if the ID-card reader, which types the number and Enter, read each one."""
    typed = [keys for _phase, field, _text, keys in clerk.typed if field.endswith(("id_number", "SFZH"))]
    return len(typed), sum(len(keys) + 1 for keys in typed)


def pad(text, width):
    """``text`` left-aligned in ``width`` terminal columns (a Chinese character takes two)."""
    return text + " " * max(0, width - sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text))


def report(runs):
    median = {key: statistics.median(r[key] for r in runs) for key in ("K", "clicks", "M", "R", "estimate")}
    middle = sorted(runs, key=lambda r: r["estimate"])[len(runs) // 2]
    clerk = middle["clerk"]
    print(f"\nMedian of {len(runs)} runs: K {median['K']:.0f}, clicks {median['clicks']:.0f}, M {median['M']:.0f}; "
          f"app waits {median['R']:.2f} s; KLM estimate {median['estimate']:.1f} s = "
          f"{median['estimate'] / TARGET:.2f} × the {TARGET:.0f} s target")

    print(f"\nBy phase (the median run, {middle['case_no']}):")
    print(f"{'phase':8s} {'K':>4s} {'clicks':>6s} {'M':>3s} {'K s':>6s} {'M s':>6s} {'app s':>6s} {'KLM s':>6s}")
    for label, phases in (("登录", ["登录"]), *((p, [p]) for p in PHASES), ("the case", PHASES)):
        f = figures(clerk.book, phases)
        print(f"{pad(label, 8)} {f['K']:4d} {f['clicks']:6d} {f['M']:3d} {f['K'] * K:6.1f} {f['M'] * M:6.1f} "
              f"{f['R']:6.2f} {f['estimate']:6.1f}{'   (once per shift: not in the case)' if label == '登录' else ''}")

    print("\nTyped, field by field (⇧ Shift: IME toggle or capital, ␣ commits the pinyin, · a password key):")
    print(f"{'phase':8s} {'field':12s} {'chars':>5s} {'keys':>4s}  text → keys")
    for phase, field, text, keys in clerk.typed:
        print(f"{pad(phase, 8)} {pad(field, 12)} {len(text):5d} {len(keys):4d}  {text} → {keys}")
    print("Each typed field is followed by one Enter (counted in K, not above); options are one digit each.")

    print("\nWaits for the app (the median run):")
    for phase, label, seconds in clerk.waits:
        print(f"  {pad(phase, 8)} {pad(label, 30)} {seconds * 1000:6.0f} ms")

    left = TARGET - median["estimate"]
    numbers, saved = id_reader_saving(clerk)
    print(f"\nLeft of the {TARGET:.0f} s for the applicant's part (not modelled: reading {middle['papers']} papers, "
          f"asking, copying, signing): {left:.0f} s, {left / middle['papers']:.0f} s a paper.")
    print(f"With the ID-card reader for the {numbers} ID numbers typed: {saved} keys fewer, "
          f"estimate {median['estimate'] - saved * K:.1f} s = {(median['estimate'] - saved * K) / TARGET:.2f} × target.")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=THREADS, help="waitress threads (serve's default)")
    args = parser.parse_args(argv)
    print(f"KLM: K {K} s a key, P {P} s a pointing, B {B} s a click, M {M} s a mental preparation; target "
          f"{TARGET:.0f} s. {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}.", flush=True)
    with tempfile.TemporaryDirectory(prefix="county-ui-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        prepare(data_dir)
        port = free_port()
        server = start_server(data_dir, port, args.threads, Path(tmp) / "server.log")
        base = f"http://127.0.0.1:{port}"
        runs = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                try:
                    for number in range(1, args.runs + 1):
                        run = run_once(browser, base)
                        runs.append(run)
                        login = figures(run["clerk"].book, ["登录"])
                        print(f"run {number}: case {run['case_no']}: K {run['K']}, clicks {run['clicks']}, "
                              f"M {run['M']}; app waits {run['R']:.2f} s; KLM estimate {run['estimate']:.1f} s = "
                              f"{run['estimate'] / TARGET:.2f} × target (login: K {login['K']}, M {login['M']}, "
                              f"app {login['R']:.2f} s)", flush=True)
                finally:
                    browser.close()
        finally:
            stop_server(server)
    report(runs)


if __name__ == "__main__":
    main()
