"""Case registration while clients hammer the login form with wrong passwords.

``python bench/login_attack_bench.py [--cases 60] [--attackers 6] [--app-root DIR]``

Initialises a fresh data folder in a temporary directory with the seed
catalogue (``county-app init``, ``user add``, ``token issue`` of the checkout
at ``--app-root``, default this one), starts ``county-app serve`` (its
default threads) on a free loopback port, then registers CASES cases one
after another through ``POST /api/v1/cases`` with a clerk's token:

- baseline: nobody else uses the server;
- attack:   ATTACKERS processes meanwhile post wrong passwords to ``/login``
  as fast as the server answers (a CSRF token fetched once each; the names
  alternate between ``admin`` and names that do not exist).

Prints the median and p95 of the registrations in both phases, their ratio,
and how many login attempts the attackers made. Figures, not a test.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import load_cases  # noqa: E402  (bench/ is not a package)
from intake_bench import free_port, percentile, start_server, stop_server  # noqa: E402
from county_app.server import THREADS  # noqa: E402

CLERK_PASSWORD = "bench window 7391 kestrel"
CENTRE_CODE = "331128101000"
REQUEST_TIMEOUT = 60


def county_app(app_root, data_dir, *args, stdin=None):
    """Run ``county-app`` of the checkout at ``app_root``; its stdout."""
    env = {**os.environ, "PYTHONPATH": str(app_root)}
    done = subprocess.run([sys.executable, "-m", "county_app", "--data-dir", str(data_dir), *args],
                          input=stdin, capture_output=True, text=True, cwd=str(app_root), env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"county-app {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def prepare(app_root, data_dir):
    """Initialise the folder, add a clerk with a token; the token and the ways to apply for a bundle."""
    county_app(app_root, data_dir, "init", "--code", CENTRE_CODE, "--name", "压测便民服务中心")
    county_app(app_root, data_dir, "user", "add", "bench", "--role", "clerk", "--password-stdin",
               stdin=CLERK_PASSWORD + "\n")
    token = county_app(app_root, data_dir, "token", "issue", "bench").rstrip("\n").splitlines()[-1]
    from county_app.db import bind, db

    bind(data_dir)
    db.connect()
    try:
        _version, templates = load_cases.bundle_templates()
    finally:
        db.close()
    return token, [t for t in templates if t.audience != "company"] or templates


def register_cases(port, token, templates, count, seed):
    """Register ``count`` cases one after another; their latencies in ms."""
    rng = random.Random(seed)
    seen = {"id": set(), "phone": set(), "credit": set()}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    latencies = []
    try:
        for _ in range(count):
            template = rng.choice(templates)
            applicant = load_cases.new_applicant(rng, template.audience, seen)
            body = {"bundle": template.bundle_code, "answers": template.answers, "applicant": applicant,
                    "form": load_cases.fake_form(template, applicant, rng, date.today())}
            data = json.dumps(body, ensure_ascii=False).encode()
            started = time.perf_counter()
            conn.request("POST", "/api/v1/cases", body=data,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status != 201:
                raise RuntimeError(f"registration answered {response.status}: {payload[:300]!r}")
    finally:
        conn.close()
    return latencies


def attacker(port, number, stop, counter):
    """Post wrong passwords to /login until ``stop`` is set; count the attempts."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode("utf-8")
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    attempt = 0
    while not stop.is_set():
        attempt += 1
        name = "admin" if attempt % 2 else f"guess{number}x{attempt}"
        form = f"csrf_token={token}&username={name}&password=wrong+password+{attempt}"
        conn.request("POST", "/login", body=form.encode(),
                     headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        answer = conn.getresponse()
        answer.read()
        fresh = answer.getheader("Set-Cookie")
        if fresh:
            cookie = fresh.split(";", 1)[0]
        with counter.get_lock():
            counter.value += 1
    conn.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=60, help="registrations per phase")
    parser.add_argument("--attackers", type=int, default=6)
    parser.add_argument("--app-root", default=str(ROOT), help="the checkout whose county_app is measured")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="login-attack-"))
    data_dir = work / "data"
    server = None
    try:
        token, templates = prepare(args.app_root, data_dir)
        port = free_port()
        server = start_server(data_dir, port, THREADS, work / "server.log", args.app_root)
        register_cases(port, token, templates, 10, seed=1)  # warm up
        baseline = register_cases(port, token, templates, args.cases, seed=2)

        forked = multiprocessing.get_context("fork")
        stop, counter = forked.Event(), forked.Value("i", 0)
        attackers = [forked.Process(target=attacker, args=(port, n, stop, counter)) for n in range(args.attackers)]
        for process in attackers:
            process.start()
        time.sleep(2)  # let every attacker reach its loop
        started, attempts_before = time.monotonic(), counter.value
        attacked = register_cases(port, token, templates, args.cases, seed=3)
        elapsed, attempts = time.monotonic() - started, counter.value - attempts_before
        stop.set()
        for process in attackers:
            process.join(timeout=REQUEST_TIMEOUT)
            if process.is_alive():
                process.kill()
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(work, ignore_errors=True)

    rows = [("baseline", baseline), (f"{args.attackers} attacking clients", attacked)]
    print(f"case registration (POST /api/v1/cases), {args.cases} per phase, one after another; "
          f"app: {args.app_root}")
    print(f"{'phase':<22} {'median ms':>10} {'p95 ms':>10}")
    for label, values in rows:
        print(f"{label:<22} {statistics.median(values):>10.1f} {percentile(sorted(values), 0.95):>10.1f}")
    print(f"ratio attack/baseline: median {statistics.median(attacked) / statistics.median(baseline):.1f}, "
          f"p95 {percentile(sorted(attacked), 0.95) / percentile(sorted(baseline), 0.95):.1f}")
    print(f"login attempts during the attack: {attempts} in {elapsed:.1f} s ({attempts / elapsed:.0f}/s)")


if __name__ == "__main__":
    main()
