"""Catalogue workbooks checked and imported in a child process, one at a time, with progress.

Checking a workbook is CPU work in Python for up to a minute. In a thread of
the server it would hold the interpreter lock that every request needs: two
hostile uploads once left ``/api/v1/health`` waiting 200 s. So each check and
each import runs in a child process of its own (the ``spawn`` start method,
the only one Windows has, and the one a PyInstaller executable supports once
``multiprocessing.freeze_support()`` runs first in ``cli.main``), which

- leaves the server's interpreter lock alone: the server thread that watches
  the child sleeps in ``poll``;
- can be killed when it runs past ``TIMEOUT``, which a thread cannot;
- gives its memory back to the system when it ends.

Starting a child costs ~0.5 s (bench/RESULTS.md), small beside a check.

One job runs at a time and at most ``QUEUE_LIMIT`` wait behind it; more are
refused (``Busy``). Jobs live in this process's memory for a day, as long as
a checked upload waits for its confirmation. The runner starts its thread
lazily, at the first job, and ``shutdown`` stops it and kills a running child
(``serve`` calls it on exit; tests call it too). Nothing here knows Flask.
"""
import atexit
import collections
import logging
import multiprocessing
import os
import secrets
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

TIMEOUT = 60.0  # seconds a job may run before its process is killed
QUEUE_LIMIT = 3  # jobs that may wait behind the running one
KEEP_FOR = 24 * 3600  # seconds a finished job stays to be looked at (as long as an unconfirmed upload)
DIFF_LINES = 200  # differences listed per section of the preview; the rest are counted
_PROGRESS_EVERY = 0.25  # seconds between progress messages from the child
_STOPPED = "程序正在停止，检查未完成，目录未做任何更改；请在程序重新启动后再上传"


class Busy(Exception):
    """Too many jobs already; the message is in Chinese."""


@dataclass
class Job:
    """One check ("check": a dry run) or import ("import") of a staged workbook."""

    id: str
    kind: str
    path: Path
    filename: str
    owner: str
    created: float = field(default_factory=time.time)
    state: str = "waiting"  # "waiting" | "running" | "done"
    stage: str = "排队等候检查"
    done: int = 0
    total: int = 0
    started: float | None = None
    finished: float | None = None
    report: dict | None = None  # what the job found (report_of), once done
    followed_by: str | None = None  # the import job that a confirmed check led to
    allow_older: bool = False  # an import of an older file, confirmed on purpose (store.older_file)

    def status(self, position: int = 0) -> dict:
        """A small JSON-ready summary for a page that polls."""
        now = self.finished or time.time()
        return {"state": self.state, "stage": self.stage, "done": self.done, "total": self.total,
                "position": position, "seconds": round(now - (self.started or self.created), 1)}


class CheckRunner:
    """The queue of catalogue jobs of one data folder, worked by one thread that watches one child at a time."""

    def __init__(self, data_dir, *, timeout: float = TIMEOUT, queue_limit: int = QUEUE_LIMIT):
        self.data_dir = str(data_dir)
        self.timeout = timeout
        self.queue_limit = queue_limit
        self._jobs: dict[str, Job] = {}
        self._waiting: collections.deque[Job] = collections.deque()
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._process = None
        self._stopping = False

    def submit(self, kind: str, path, filename: str, owner: str, *, allow_older: bool = False) -> Job:
        """Queue a job for the workbook at ``path``; raises Busy when the queue is full."""
        with self._lock:
            if self._stopping:
                raise Busy(_STOPPED)
            self._forget_old()
            running = sum(job.state == "running" for job in self._jobs.values())
            if len(self._waiting) >= self.queue_limit:
                raise Busy(f"已有 {len(self._waiting) + running} 个目录文件正在检查或排队，请稍后再试")
            job = Job(secrets.token_hex(16), kind, Path(path), filename, owner, allow_older=allow_older)
            if kind == "import":
                job.stage = "排队等候导入"
            self._jobs[job.id] = job
            self._waiting.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="catalogue-checks", daemon=True)
                self._thread.start()
                atexit.register(self.shutdown)
            self._lock.notify()
            return job

    def follow(self, job: Job, *, allow_older: bool = False) -> str:
        """The id of the import that follows the checked ``job``: queued by the first call only.

        Under the lock, so that two clicks on 确认发布 at once queue one import.
        ``allow_older``: the officer confirmed that this older file replaces the catalogue in force.
        """
        with self._lock:  # a Condition's lock is re-entrant: submit takes it again
            if job.followed_by is None:
                job.followed_by = self.submit("import", job.path, job.filename, job.owner,
                                              allow_older=allow_older).id
            return job.followed_by

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def position(self, job: Job) -> int:
        """How many jobs are ahead of a waiting one (0 once it runs)."""
        with self._lock:
            try:
                return self._waiting.index(job) + 1
            except ValueError:
                return 0

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job waits or runs (at most ``timeout`` seconds); whether it is so."""
        with self._lock:
            return self._lock.wait_for(
                lambda: not self._waiting and not any(job.state == "running" for job in self._jobs.values()),
                timeout)

    def shutdown(self, wait: float = 5.0) -> None:
        """Stop taking jobs, kill a running child and end the thread."""
        with self._lock:
            self._stopping = True
            process = self._process
            self._lock.notify_all()
        if process is not None and process.is_alive():
            process.kill()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(wait)

    def _forget_old(self):
        cutoff = time.time() - KEEP_FOR
        for job_id in [job.id for job in self._jobs.values() if job.state == "done" and job.finished < cutoff]:
            del self._jobs[job_id]

    def _work(self):
        while True:
            with self._lock:
                while not self._waiting and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    for job in self._waiting:
                        self._finish(job, failure(_STOPPED))
                    self._waiting.clear()
                    return
                job = self._waiting.popleft()
                job.state, job.started = "running", time.time()
                job.stage = "正在启动导入" if job.kind == "import" else "正在启动检查"
            try:
                report = self._run(job)
            except Exception:  # noqa: BLE001 - the thread must outlive any one job
                log.exception("catalogue job %s failed", job.id)
                report = failure("检查时出现内部错误，目录未做任何更改；请重试或使用命令行导入")
            with self._lock:
                self._finish(job, report)

    def _finish(self, job: Job, report: dict):
        job.report, job.state, job.finished = report, "done", time.time()
        job.stage = "完成"
        self._lock.notify_all()
        # A staged file that can no longer be confirmed is of no further use.
        if job.kind == "import" or report.get("status") != "checked":
            job.path.unlink(missing_ok=True)

    def _run(self, job: Job) -> dict:
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=child_main, name=f"catalogue-{job.kind}", daemon=True,
                                  args=(sender, self.data_dir, job.kind, str(job.path), job.filename, job.owner,
                                        job.allow_older))
        process.start()  # outside the lock: starting a process takes a while, and pages ask for the status
        with self._lock:
            self._process = process
        sender.close()
        deadline = time.monotonic() + self.timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if self._stopping:
                    return failure(_STOPPED)
                if left <= 0:
                    return failure(f"检查超过 {self.timeout:.0f} 秒仍未完成，已停止，目录未做任何更改。"
                                   "请确认文件是县里下发的目录，或在命令行用 county-app catalogue import 导入")
                if not receiver.poll(min(left, 0.5)):
                    continue
                try:
                    message = receiver.recv()
                except (EOFError, OSError):
                    if self._stopping:
                        return failure(_STOPPED)
                    return failure("检查进程意外退出（可能是内存不足），目录未做任何更改")
                if message[0] == "progress":
                    job.stage, job.done, job.total = message[1:]
                else:
                    return message[1]
        finally:
            if process.is_alive():
                process.kill()
            process.join(5)
            receiver.close()
            with self._lock:
                self._process = None


def failure(message: str) -> dict:
    """The report of a job that ended without an answer about the file."""
    return {"status": "failed", "errors": [message], "error_count": 1, "warnings": [], "warning_count": 0,
            "version": None, "diff": [], "older": None}


def report_of(outcome) -> dict:
    """A store.ImportOutcome as plain data, small whatever the file: listed problems and differences are capped."""
    return {
        "status": outcome.status,
        "version": outcome.version,
        "errors": [str(error) for error in outcome.errors],
        "error_count": outcome.error_count,
        "warnings": [str(warning) for warning in outcome.warnings],
        "warning_count": outcome.warning_count,
        "diff": list(outcome.diff.lines(DIFF_LINES)) if outcome.diff is not None else [],
        "older": outcome.older,
    }


def child_main(pipe, data_dir: str, kind: str, path: str, filename: str, actor: str,
               allow_older: bool = False) -> None:
    """The child process: check (a dry run) or import the workbook, telling the parent how far it is."""
    from .. import childproc
    from ..db import bind, db
    from . import store

    childproc.settle()

    last = 0.0

    def progress(stage, done, total):
        nonlocal last
        now = time.monotonic()
        if now - last >= _PROGRESS_EVERY or not done:
            last = now
            try:
                pipe.send(("progress", stage, done, total))
            except OSError:  # the server is gone (killed, not stopped): so is the point of going on
                os._exit(1)

    try:
        bind(data_dir)
        with db.connection_context():
            outcome = store.import_workbook(path, actor=actor, dry_run=kind == "check", filename=filename,
                                            progress=progress, allow_older=allow_older)
        pipe.send(("done", report_of(outcome)))
    except Exception:  # noqa: BLE001 - whatever happened, the parent gets an answer
        traceback.print_exc()
        pipe.send(("done", failure("检查时出现内部错误，目录未做任何更改；请重试或使用命令行导入")))
    finally:
        pipe.close()
