"""The nightly exchange, measured (issue 10 item 9): a township's backlog pushed to a served hub over loopback.

``python bench/sync_bench.py [--cases 10000] [--events 100000] [--hub sqlite|postgresql|both|none] [--day]``

The township's outbox is built from real rows: two cases of story 1 go
through the domain code (one registered, its materials logged and accepted:
7 events; one carried on to five window-recorded results, the conclusion
and delivery: 14 events), and their outbox rows are cloned for the other
cases with a new case number, applicant, ID number, phone and event id each
(the mix giving about ``--events`` events), numbered on from the real ones.
The hub is ``county-app serve`` on SQLite, or on a database of a throw-away
PostgreSQL cluster (tests/postgres_cluster.py); the township runs
``county-app sync run`` through a counting TCP proxy in this process, which
also throttles (``--day``: 300 cases over 256 kbit/s). The peak RSS of both
processes is sampled every 0.2 s from /proc (VmRSS), with its course over
the run in quarters, to show it stays flat. Prints figures; asserts only
that the hub ends holding every case and event once.
"""
import argparse
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from load_cases import id_number, person_name, phone  # noqa: E402
from sync_nodes import CENTRE, Hub, at, cli, count, environment, rows  # noqa: E402

FULL_RESULTS = ("WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "WJ-0103")


# ----------------------------------------------------------------------------- the township's backlog

def template_cases(town):
    """Two real cases written by the domain code at ``town``: ``{"accepted": [rows], "delivered": [rows]}``."""
    from county_app.intake import cases, materials, outcomes, workflow
    from test_cases_domain import newborn, supply_all_but_marriage_certificate

    numbers = {}
    with at(town):
        for kind in ("accepted", "delivered"):
            case = cases.register_case(**newborn(), actor="li")
            supply_all_but_marriage_certificate(case.case_no, "li")
            materials.log_material(case.case_no, "JHZ", "original_verified", actor="li")
            workflow.accept_case(case.case_no, actor="li")
            if kind == "delivered":
                for code in FULL_RESULTS:
                    outcomes.record_result(case.case_no, code, "approved", actor="li", result_no=f"R-{code}",
                                           note="县局书面决定（窗口代录）")
                outcomes.deliver_case(case.case_no, "window", actor="li")
            numbers[kind] = case.case_no
    return {kind: rows(town, "select case_no, action, payload from sync_outbox where case_no = ? order by seq",
                       number) for kind, number in numbers.items()}


def build_township(folder, cases, events, seed=20261201):
    """A township at ``folder`` whose outbox holds about ``events`` changes of ``cases`` cases; (cases, events)."""
    folder.mkdir(parents=True)
    cli(folder, "init", "--code", CENTRE, "--name", "城关镇便民服务中心")
    templates = template_cases(folder)
    short, full = len(templates["accepted"]), len(templates["delivered"])
    # full·x + short·(cases − x) = events
    fulls = max(0, min(cases - 2, round((events - short * cases) / (full - short))))
    rng = random.Random(seed)
    con = sqlite3.connect(folder / "county_app.sqlite3")
    seq = con.execute("select max(seq) from sync_outbox").fetchone()[0]
    event_id = con.execute("select max(id) from case_event").fetchone()[0]
    day_prefix = templates["accepted"][0][0][:20]
    written_cases, written_events, batch = 2, short + full, []
    seen = set()
    for n in range(cases - 2):
        kind = "delivered" if n < fulls else "accepted"
        template = templates[kind]
        old_no = template[0][0]
        new_no = f"{day_prefix}{n + 3:05d}"  # the real ones are 1 and 2
        mother = new_identity(rng, seen)
        for _case_no, action, payload in template:
            seq += 1
            event_id += 1
            data = json.loads(payload)
            data["event"]["id"] = event_id
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            text = (text.replace(old_no, new_no).replace("李娜", mother[0]).replace("331128199003071243", mother[1])
                    .replace("13800138000", mother[2]))
            batch.append(("", seq, new_no, action, text))
        written_cases += 1
        written_events += len(template)
        if len(batch) >= 5000:
            _insert(con, batch)
    _insert(con, batch)
    con.execute("update sync_mark set value = ? where name = 'up.written'", (seq,))
    con.commit()
    con.close()
    return written_cases, written_events


def new_identity(rng, seen):
    while True:
        identity = (person_name(rng), id_number(rng), phone(rng))
        if identity[1] not in seen:
            seen.add(identity[1])
            return identity


def _insert(con, batch):
    con.executemany("insert into sync_outbox (node, seq, case_no, action, payload, created_at) "
                    "values (?, ?, ?, ?, ?, datetime('now'))", batch)
    con.commit()
    batch.clear()


# ----------------------------------------------------------------------------- the link and the processes

class Proxy:
    """A TCP proxy on loopback to ``port``, counting the bytes each way, at most ``rate`` bytes/s each way."""

    def __init__(self, port, rate=None):
        self.target, self.rate = port, rate
        self.up = self.down = 0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, server, "up"), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, "down"), daemon=True).start()

    def _pipe(self, source, sink, direction):
        chunk = 4096 if self.rate else 256 * 1024
        started, sent = time.monotonic(), 0
        try:
            while True:
                data = source.recv(chunk)
                if not data:
                    break
                if self.rate:  # at most `rate` bytes a second since the first byte of this stream
                    sent += len(data)
                    ahead = sent / self.rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
                sink.sendall(data)
                setattr(self, direction, getattr(self, direction) + len(data))
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def close(self):
        self.listener.close()


def cpu_seconds(pid):
    """User and system CPU seconds the process ``pid`` has used so far (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class RssSampler:
    """VmRSS of some processes every 0.2 s; ``peak(name)``, ``course(name)`` (the peak of each quarter) and
    ``cpu[name]`` (CPU seconds used during the sampling)."""

    def __init__(self, processes):
        self.processes, self.samples = processes, {name: [] for name in processes}
        self.cpu, self._cpu_start = {}, {name: cpu_seconds(p.pid) or 0 for name, p in processes.items()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            for name, process in self.processes.items():
                value, cpu = rss_mb(process.pid), cpu_seconds(process.pid)
                if value is not None:
                    self.samples[name].append(value)
                if cpu is not None:
                    self.cpu[name] = cpu - self._cpu_start[name]
            self._stop.wait(0.2)

    def stop(self):
        self._stop.set()
        self._thread.join()

    def peak(self, name):
        return max(self.samples[name], default=0)

    def course(self, name):
        samples = self.samples[name]
        if len(samples) < 4:
            return "-"
        quarter = len(samples) // 4
        return " / ".join(f"{max(samples[i * quarter:(i + 1) * quarter]):.0f}" for i in range(4))


def one_exchange(label, template, scratch, hub_database, rate=None):
    """Copy the township, push it all to a fresh hub through the proxy; a dict of figures."""
    folder = scratch / f"run-{len(list(scratch.glob('run-*')))}"
    town = folder / "town"
    shutil.copytree(template, town)
    hub = Hub(folder / "hub", hub_database).start()
    proxy = Proxy(hub.port, rate)
    try:
        cli(town, "config", "set", "sync.url", f"http://127.0.0.1:{proxy.port}")
        cli(town, "config", "set", "sync.secret", hub.secret)
        written = rows(town, "select value from sync_mark where name = 'up.written'")[0][0]
        started = time.perf_counter()
        run = subprocess.Popen([sys.executable, "-m", "county_app", "--data-dir", str(town), "sync", "run"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment())
        sampler = RssSampler({"township": run, "hub": hub.process})
        output, _ = run.communicate(timeout=3600)
        seconds = time.perf_counter() - started
        sampler.stop()
        assert run.returncode == 0, output
        assert rows(hub, "select applied_through from sync_node")[0][0] == written, output
        assert count(hub, "case_event") == written, "the hub should hold every event once"
        started = time.perf_counter()  # a run with nothing to send: what the run's reconciliation costs alone
        cli(town, "sync", "run")
        again = time.perf_counter() - started
        return {"label": label, "seconds": seconds, "events": written, "cases": count(hub, "case_record"),
                "up": proxy.up, "down": proxy.down, "town_rss": sampler.peak("township"),
                "hub_rss": sampler.peak("hub"), "town_course": sampler.course("township"),
                "hub_course": sampler.course("hub"), "town_cpu": sampler.cpu.get("township", 0),
                "hub_cpu": sampler.cpu.get("hub", 0), "again": again}
    finally:
        proxy.close()
        hub.stop()


def report(result):
    per_event = (result["up"] + result["down"]) / result["events"]
    print(f"{result['label']}: {result['events']:,} events of {result['cases']:,} cases in {result['seconds']:.1f} s "
          f"({result['events'] / result['seconds']:,.0f} events/s); on the wire {result['up'] / 1e6:.1f} MB up, "
          f"{result['down'] / 1e6:.2f} MB down, {per_event:.0f} bytes/event; peak RSS township "
          f"{result['town_rss']:.0f} MB ({result['town_course']}), hub {result['hub_rss']:.0f} MB "
          f"({result['hub_course']}); CPU township {result['town_cpu']:.1f} s, hub {result['hub_cpu']:.1f} s; "
          f"a second run, nothing to send (its reconciliation of the last days): {result['again']:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--hub", choices=("sqlite", "postgresql", "both", "none"), default="both")
    parser.add_argument("--day", action="store_true", help="also a busy day (300 cases) over 256 kbit/s")
    parser.add_argument("--keep", help="build the township in this folder once and reuse it")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    cluster = None
    try:
        template = Path(args.keep) if args.keep else scratch / "town"
        if args.hub != "none" and not (template / "county_app.sqlite3").exists():
            started = time.perf_counter()
            made = build_township(template, args.cases, args.events)
            print(f"township built: {made[0]:,} cases, {made[1]:,} outbox rows in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
        backends = {"both": ("sqlite", "postgresql"), "none": ()}.get(args.hub, (args.hub,))
        for backend in backends:
            url = None
            if backend == "postgresql":
                from postgres_cluster import Cluster, server_binaries
                cluster = cluster or Cluster(server_binaries())
                url = cluster.url(cluster.create_database())
            report(one_exchange(f"backlog, hub on {backend}", template, scratch, url))
        if args.day:
            day = scratch / "day"
            build_township(day, 300, 3000)
            report(one_exchange("a busy day over 256 kbit/s, hub on sqlite", day, scratch, None, rate=256_000 // 8))
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    os.environ.pop("DATABASE_URL", None)
    main()
