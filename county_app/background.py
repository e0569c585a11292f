"""A page's button that starts long work (立即备份, 立即同步): the work runs in a background thread, one at a time.

A request never waits for the work: ``start`` begins it and returns; the
page reads ``state`` (the latest run's progress, with ``running``) as it
goes, and a second press while it runs is refused. Each kind of work says
how it fills its state and how it reports its own errors.
"""
import threading
import time


class OneAtATime:
    """At most one run of ``work(state)`` at a time; ``state`` is the latest run's, running or done."""

    def __init__(self, name):
        self.name = name
        self.state = None
        self._lock = threading.Lock()

    def start(self, state):
        """Run ``self.work(state)`` in the background; False (nothing started) while the run before goes on.
        ``state`` needs ``finished_at`` (None) and ``running``; ``finished_at`` is set when the work ends."""
        with self._lock:
            if self.state is not None and self.state.running:
                return False
            self.state = state
        threading.Thread(target=self._run, args=(state,), name=self.name, daemon=True).start()
        return True

    def _run(self, state):
        try:
            self.work(state)
        finally:
            state.finished_at = time.time()

    def work(self, state):
        raise NotImplementedError
