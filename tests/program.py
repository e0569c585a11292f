"""The program as a user runs it: a real ``county-app`` process (the Python entry point or the built
executable), its console, its HTTP answers; used by tests/test_startup.py, tests/test_binary_smoke.py
and bench/binary_bench.py.
"""
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_PROGRAM = [sys.executable, "-m", "county_app"]
EXECUTABLE = ROOT / "dist" / ("county-app.exe" if os.name == "nt" else "county-app")


def environment(data_dir, **extra):
    """The environment of a run on ``data_dir`` with the browser kept closed (unless ``extra`` says otherwise)."""
    env = {**os.environ, "COUNTY_APP_DATA": str(data_dir), "COUNTY_APP_NO_BROWSER": "1",
           "PYTHONIOENCODING": "utf-8"}
    env.update(extra)
    return env


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fake_browser(folder):
    """(environment entries for a fake browser, the file where it writes each address it is asked to open)."""
    log = Path(folder) / "opened.txt"
    script = Path(folder) / "browser.py"
    script.write_text(f"import sys\nwith open({str(log)!r}, 'a') as f:\n    f.write(sys.argv[1] + '\\n')\n")
    return {"BROWSER": f"{sys.executable} {script} %s", "COUNTY_APP_NO_BROWSER": ""}, log


def opened(log, timeout=10):
    """The addresses the fake browser was asked to open, waiting for the first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text().strip():
            return log.read_text().split()
        time.sleep(0.05)
    return []


def port_in_use(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Running:
    """A started ``county-app`` process; its output goes to a file (a pipe left unread could fill and block it)."""

    def __init__(self, command, *, env, cwd, log):
        self.log = Path(log)
        self._out = open(self.log, "wb")
        self.process = subprocess.Popen(command, env=env, cwd=cwd, stdout=self._out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        self.started = time.perf_counter()

    @property
    def output(self):
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, url, timeout=60):
        """Seconds from the start to the first 200 from ``url``; fails with the console when it never comes."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the program ended ({self.process.returncode}):\n{self.output}")
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - self.started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.02)
        raise AssertionError(f"no answer from {url} within {timeout} s:\n{self.output}")

    def stop(self, timeout=20):
        """Ctrl+C, as a user stops it; returns the exit code."""
        interrupt(self.process, timeout)
        self._out.close()
        return self.process.returncode


def interrupt(process, timeout=30):
    """Ctrl+C to ``process``; when it has not ended within ``timeout`` seconds it is killed with every process
    it started (the one-file program's unpacked child would outlive its parent), so no test leaves one behind."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        for pid in [*descendants(process.pid), process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(5)


@contextlib.contextmanager
def started_serving(data_dir):
    """``serve --port 0`` on ``data_dir`` until its console gives the address (it then holds the folder and has
    applied any restore chosen for its start); yields the lines it printed until then. Ctrl+C at the end."""
    server = subprocess.Popen([*PYTHON_PROGRAM, "--data-dir", str(data_dir), "serve", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8")
    try:
        printed = []
        for line in server.stdout:
            printed.append(line)
            if "网址：" in line:
                break
        yield printed
    finally:
        interrupt(server)
        server.stdout.close()


def run(command, *args, env, cwd=None, input=None, timeout=120):
    """Run a command of the program to its end: (exit code, stdout, stderr)."""
    done = subprocess.run([*command, *args], env=env, cwd=cwd, input=input, capture_output=True, text=True,
                          encoding="utf-8", timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def call(base, method, path, body=None, *, token=None):
    """One HTTP request: (status, parsed JSON or text)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, text, kind = answer.status, answer.read().decode(), answer.headers.get_content_type()
    except urllib.error.HTTPError as error:
        with error:
            status, text, kind = error.code, error.read().decode(), error.headers.get_content_type()
    return status, (json.loads(text) if kind == "application/json" and text else text)


def rss_kib(pid):
    """Resident memory of process ``pid`` in KiB (Linux /proc), or None once it has ended."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))


def descendants(pid):
    """The processes started by ``pid`` and by them (Linux /proc)."""
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            children = []
        for child in map(int, children):
            found.append(child)
            frontier.append(child)
    return found
