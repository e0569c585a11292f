"""The 立即同步 button's run: ``client.run_once`` in a background thread, its progress readable meanwhile.

A request never waits for an exchange: ``BackgroundSync.start`` starts one
and returns; the page (or its small JSON status, polled) shows the counts
the run fills in batch by batch. The run takes the data folder's sync lock
like every run, so a scheduled run or ``sync run`` already syncing makes the
button's run end at once with 「同步正在进行」.
"""
import logging
import time
from dataclasses import dataclass, field

from ..background import OneAtATime
from . import client
from .errors import SyncBusy

log = logging.getLogger(__name__)


@dataclass
class Progress:
    actor: str
    started_at: float = field(default_factory=time.time)
    report: client.RunReport = field(default_factory=client.RunReport)
    finished_at: float | None = None
    busy: str = ""  # another run held the lock: this one did not start

    @property
    def running(self):
        return self.finished_at is None

    def as_json(self):
        r = self.report
        return {"running": self.running, "stage": r.stage, "pushed": r.pushed, "to_push": r.to_push,
                "pulled": r.pulled, "conflicts": r.conflicts, "error": self.busy or r.error,
                "seconds": int((self.finished_at or time.time()) - self.started_at)}


class BackgroundSync(OneAtATime):
    """At most one button run per program; ``state`` says how the latest one goes or went."""

    def __init__(self, data_dir):
        super().__init__("sync-button")
        self.data_dir = data_dir

    def start(self, actor):
        """Start a run; False when the button's previous run is still going."""
        return super().start(Progress(actor))

    def work(self, state):
        try:
            client.run_once(self.data_dir, state.actor, report=state.report)
        except SyncBusy as exc:
            state.busy = str(exc)
        except Exception as exc:  # shown on the page; the details go to the log
            log.exception("sync from the page failed")
            state.report.error = f"同步失败（{type(exc).__name__}），详情见日志"
