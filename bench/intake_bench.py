"""The window under load: API clients against a million cases, beside ``/api/v1/health`` as the baseline.

``python bench/intake_bench.py [--data-dir DIR] [--clients 8] [--seconds 60]``

With the cases of ``bench/load_cases.py`` in DIR (loaded first when there
are none), starts ``county-app serve`` (its default threads) on a free
loopback port, creates a clerk with a token, then measures with CLIENTS
processes (as each window is a PC of its own), each on its own keep-alive
connection; the server's and the clients' CPU are printed:

- baseline: ``GET /api/v1/health`` (no login, one small query);
- workload: register a case of a seed bundle (``POST /api/v1/cases``), log
  each 必要 material, accept, read it back (``GET /api/v1/cases/{no}``);
- search:   ``GET /api/v1/cases?q=`` an ID number, a phone or a case number
  of a loaded case, picked at random; and as a clerk searches (issue 9
  item 15): two or three characters of its applicant's name (a person's
  given name, 有限, 公司, 安澜 …), the first character of a name (a
  surname), the agent's phone, the last 4 to 8 digits of the number.

Prints p50/p95/p99 per kind, each p95 also as a ratio to the health p95,
and PASS/MISS against the targets of the issue (p95 ≤ 50 ms for writes,
≤ 20 ms for reads and for search by ID number or phone). Figures, not a test:
the exit status says only whether the run itself worked.
"""
import argparse
import http.client
import json
import os
import random
import resource
import socket
import subprocess
import sys
import time
from datetime import date
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import load_cases  # noqa: E402  (bench/ is not a package)
from county_app.server import THREADS  # noqa: E402

DEFAULT_DATA_DIR = "/tmp/county-bench/data"
NEW_SEARCHES = ("search by part of a name", "search by first character", "search by agent's phone",
                "search by last digits")
TARGETS_MS = {"writes": 50.0, "reads": 20.0, "search by ID number": 20.0, "search by phone": 20.0,
              **{kind: 20.0 for kind in NEW_SEARCHES}}
WRITE_KINDS = ("create", "material", "accept")
REQUEST_TIMEOUT = 30


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 1))))
    return sorted_values[rank - 1]


# ----------------------------------------------------------------------------- setup


def case_count(data_dir):
    import sqlite3

    from county_app.db import database_path

    path = database_path(data_dir)
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        try:
            return conn.execute("SELECT max(id) FROM case_record").fetchone()[0] or 0
        except sqlite3.OperationalError:  # not initialised yet
            return 0


def prepare(data_dir, rng, samples):
    """A clerk and its token, the ways to apply, and loaded cases' ID numbers, phones and numbers to search."""
    from county_app import accounts
    from county_app.db import bind, db
    from county_app.intake.records import Case

    bind(data_dir)
    db.connect()
    try:
        name = f"bench{os.getpid()}"
        accounts.add_user(name, "clerk", accounts.random_password(), actor="bench", display_name="压测窗口")
        token = accounts.issue_token(name, actor="bench").token
        _version, templates = load_cases.bundle_templates()
        top = Case.select(Case.id).order_by(Case.id.desc()).scalar()
        picked = rng.sample(range(1, top + 1), min(samples, top))
        rows = list(Case.select(Case.id_number, Case.phone, Case.case_no, Case.applicant_name, Case.agent_phone)
                    .where(Case.id.in_(picked)).tuples())
        agents = list(Case.select(Case.agent_phone).where(Case.agent_phone != "").order_by(Case.id.desc())
                      .limit(samples).tuples())
    finally:
        db.close()

    def part(name):
        size = min(len(name), rng.choice((2, 2, 3)))
        start = rng.randrange(len(name) - size + 1)
        return name[start:start + size]

    return token, templates, {
        "search by ID number": [r[0] for r in rows if r[0]],
        "search by phone": [r[1] for r in rows],
        "search by case number": [r[2] for r in rows],
        "search by part of a name": [part(r[3]) for r in rows if len(r[3]) >= 2],
        "search by first character": [r[3][0] for r in rows],
        "search by agent's phone": [phone for (phone,) in agents],
        "search by last digits": [r[2][-rng.randint(4, 8):] for r in rows],
    }


def start_server(data_dir, port, threads, log_path, app_root=ROOT):
    log = open(log_path, "ab")
    env = {**os.environ, "PYTHONPATH": str(app_root)}  # the checkout whose county_app is measured
    server = subprocess.Popen(
        [sys.executable, "-m", "county_app", "--data-dir", str(data_dir), "serve", "--host", "127.0.0.1",
         "--port", str(port), "--threads", str(threads)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=str(app_root), env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped at start (exit {server.returncode}); see {log_path}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                conn.close()
                return server
        except OSError:
            time.sleep(0.5)
    stop_server(server)
    raise RuntimeError(f"the server did not answer within 120 s; see {log_path}")


def stop_server(server):
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


def cpu_seconds(pid):
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- clients


class Client:
    """One keep-alive connection; ``call`` records (kind, milliseconds, status) in ``samples``."""

    def __init__(self, port, token):
        self.port, self.token = port, token
        self.conn = None
        self.samples = []

    def call(self, kind, method, path, body=None, auth=True):
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = None
            self.samples.append((kind, (time.perf_counter() - started) * 1000, f"error {type(exc).__name__}"))
            return None, None
        self.samples.append((kind, (time.perf_counter() - started) * 1000, status))
        return status, payload

    def close(self):
        if self.conn is not None:
            self.conn.close()


def health_loop(client, rng, deadline, _context):
    while time.monotonic() < deadline:
        client.call("health", "GET", "/api/v1/health", auth=False)


def workload_loop(client, rng, deadline, context):
    """create → log each 必要 material → accept → read, until ``deadline``."""
    templates, cum_weights = context["templates"], context["cum_weights"]
    seen = {"id": set(), "phone": set(), "credit": set()}
    today = date.today()
    while time.monotonic() < deadline:
        template = rng.choices(templates, cum_weights=cum_weights)[0]
        applicant = load_cases.new_applicant(rng, template.audience, seen)
        body = {"bundle": template.bundle_code, "answers": template.answers, "applicant": applicant,
                "form": load_cases.fake_form(template, applicant, rng, today)}
        status, payload = client.call("create", "POST", "/api/v1/cases", body)
        if status != 201:
            context["failures"].append(("create", status, (payload or b"")[:300]))
            continue
        case = json.loads(payload)
        case_no = case["case_no"]
        for material in case["materials"]:
            if not material["required"]:
                continue
            logged = ({"status": "copy_received", "copies": material["copies"]} if material["form"] == "copy"
                      else {"status": "original_verified"})
            status, payload = client.call("material", "POST", f"/api/v1/cases/{case_no}/materials/{material['code']}",
                                          logged)
            if status != 200:
                context["failures"].append(("material", status, (payload or b"")[:300]))
        status, payload = client.call("accept", "POST", f"/api/v1/cases/{case_no}/accept", {})
        if status != 200:
            context["failures"].append(("accept", status, (payload or b"")[:300]))
        status, payload = client.call("read", "GET", f"/api/v1/cases/{case_no}")
        if status != 200:
            context["failures"].append(("read", status, (payload or b"")[:300]))


def search_loop(client, rng, deadline, context):
    from urllib.parse import quote

    kinds = list(context["searches"])
    while time.monotonic() < deadline:
        kind = rng.choice(kinds)
        q = rng.choice(context["searches"][kind])
        status, payload = client.call(kind, "GET", f"/api/v1/cases?q={quote(q)}")
        if status == 200 and not json.loads(payload)["items"]:
            context["failures"].append((kind, status, f"no case found for {q}".encode()))
        elif status != 200:
            context["failures"].append((kind, status, (payload or b"")[:300]))


def _client_process(loop, port, token, seed, deadline, context, out):
    """One client in its own process (as each window is its own PC): run ``loop``, send back what it saw."""
    context = {**context, "failures": []}
    client = Client(port, token)
    try:
        loop(client, random.Random(seed), deadline, context)
    finally:
        client.close()
        out.put((client.samples, context["failures"]))


def run_phase(name, loop, *, port, token, clients, seconds, warmup, context, server_pid, seed):
    """Run ``loop`` in ``clients`` processes: ``warmup`` s unrecorded, then ``seconds`` s; give the samples.

    Each client is a process of its own, so that clients never queue on one
    interpreter lock and the latency measured is the server's.
    """
    import multiprocessing

    forked = multiprocessing.get_context("fork")
    results = {}
    for recorded, duration in ((False, warmup), (True, seconds)):
        if duration <= 0:
            continue
        out = forked.Queue()
        before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_cpu, wall = cpu_seconds(server_pid), time.monotonic()
        deadline = time.monotonic() + duration
        workers = [forked.Process(target=_client_process, daemon=True,
                                  args=(loop, port, token, seed * 100 + i + recorded * 50, deadline, context, out))
                   for i in range(clients)]
        for worker in workers:
            worker.start()
        gathered = [out.get(timeout=duration + REQUEST_TIMEOUT * 20) for _ in workers]
        for worker in workers:
            worker.join(timeout=REQUEST_TIMEOUT)
        wall = time.monotonic() - wall
        server_cpu = cpu_seconds(server_pid) - server_cpu
        after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        if not recorded:
            continue
        samples = [sample for got, _failures in gathered for sample in got]
        failures = [failure for _got, got_failures in gathered for failure in got_failures]
        client_cpu = ((after_children.ru_utime - before_children.ru_utime)
                      + (after_children.ru_stime - before_children.ru_stime))
        results = {"samples": samples, "wall": wall, "client_cpu": client_cpu, "server_cpu": server_cpu,
                   "failures": failures}
        print(f"{name}: {len(samples):,} requests in {wall:.1f} s ({len(samples) / wall:,.0f}/s) by {clients} "
              f"client processes; server CPU {server_cpu / wall:.2f} cores = "
              f"{server_cpu * 1e6 / max(len(samples), 1):,.0f} µs per request; client CPU "
              f"{client_cpu / wall:.2f} cores; failures {len(failures)}", flush=True)
        for kind, status, text in failures[:5]:
            print(f"    {kind} → {status}: {text.decode(errors='replace') if isinstance(text, bytes) else text}")
    return results


# ----------------------------------------------------------------------------- report


def summarise(samples, kinds):
    times = sorted(ms for kind, ms, status in samples if kind in kinds and status in (200, 201))
    errors = sum(1 for kind, _ms, status in samples if kind in kinds and status not in (200, 201))
    return {"count": len(times), "errors": errors, "p50": percentile(times, 0.50), "p95": percentile(times, 0.95),
            "p99": percentile(times, 0.99)}


def report(phases):
    health = summarise(phases["baseline"]["samples"], {"health"})
    base = health["p95"]
    rows = [("baseline", "health", health, None)]
    workload = phases["workload"]["samples"]
    for kind in WRITE_KINDS:
        rows.append(("workload", f"  {kind}", summarise(workload, {kind}), None))
    rows.append(("workload", "writes", summarise(workload, set(WRITE_KINDS)), "writes"))
    rows.append(("workload", "reads (GET case)", summarise(workload, {"read"}), "reads"))
    search = phases["search"]["samples"]
    for kind in ("search by ID number", "search by phone", "search by case number", *NEW_SEARCHES):
        rows.append(("search", kind, summarise(search, {kind}), kind if kind in TARGETS_MS else None))
    if "after" in phases:
        rows.append(("after", "health", summarise(phases["after"]["samples"], {"health"}), None))
    print()
    print(f"{'phase':9s} {'kind':26s} {'count':>7s} {'errors':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} "
          f"{'p95/health':>10s}  target")
    verdicts = []
    for phase, label, s, target in rows:
        goal = TARGETS_MS.get(target) if target else None
        verdict = ""
        if goal is not None:
            verdict = f"p95 ≤ {goal:.0f} ms: " + ("PASS" if s["p95"] <= goal and not s["errors"] else "MISS")
            verdicts.append((label, verdict))
        print(f"{phase:9s} {label:26s} {s['count']:7d} {s['errors']:6d} {s['p50']:8.1f} {s['p95']:8.1f} "
              f"{s['p99']:8.1f} {s['p95'] / base:10.1f}  {verdict}")
    return rows, verdicts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60, help="length of the workload phase")
    parser.add_argument("--health-seconds", type=float, default=15)
    parser.add_argument("--search-seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=5, help="unrecorded seconds before each phase")
    parser.add_argument("--threads", type=int, default=THREADS, help="waitress threads (serve's default)")
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases to load when DIR has none")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--app-root", type=Path, default=ROOT,
                        help="serve the county_app of another checkout (to measure a change in a scratch copy)")
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir)
    loaded = case_count(data_dir)
    if not loaded:
        print(f"{data_dir} has no cases: loading {args.cases:,} first (bench/load_cases.py) …", flush=True)
        data_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(Path(__file__).with_name("load_cases.py")), str(data_dir),
                        "--cases", str(args.cases)], check=True, timeout=4 * 3600)
        loaded = case_count(data_dir)
    rng = random.Random(args.seed)
    token, templates, searches = prepare(data_dir, rng, 5000)
    context = {"templates": templates, "cum_weights": list(accumulate(t.weight for t in templates)),
               "searches": searches}
    port = free_port()
    log_path = data_dir.parent / "intake_bench_server.log"
    print(f"{loaded:,} cases in {data_dir}; server on 127.0.0.1:{port} with {args.threads} threads "
          f"(log {log_path}); {os.cpu_count()} CPUs; app from {args.app_root}", flush=True)
    server = start_server(data_dir, port, args.threads, log_path, args.app_root.resolve())
    phases = {}
    common = dict(port=port, token=token, clients=args.clients, warmup=args.warmup, context=context,
                  server_pid=server.pid, seed=args.seed)
    try:
        phases["baseline"] = run_phase("baseline", health_loop, seconds=args.health_seconds, **common)
        phases["workload"] = run_phase("workload", workload_loop, seconds=args.seconds, **common)
        phases["search"] = run_phase("search", search_loop, seconds=args.search_seconds, **common)
        phases["after"] = run_phase("after", health_loop, seconds=min(args.health_seconds, 10),
                                    **{**common, "warmup": 0})
    finally:
        stop_server(server)
    report(phases)


if __name__ == "__main__":
    main()
