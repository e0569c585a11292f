"""The HTTP server: waitress, with a fix to its event loop and reads served first.

Waitress marks a connection writable whenever its output buffer holds
anything. While a request's task is sending its answer it holds the
buffer's lock, so the main thread's ``handle_write`` can do nothing (it only
flushes "if lockable"), yet the writable socket makes ``select`` return at
once: the main thread spins, and takes the GIL the task needs to finish
sending. With eight busy clients that spin cost more CPU than the requests
themselves (bench/RESULTS.md). ``QuietChannel`` reports such a connection as
not writable while its task holds the lock; a task that cannot send all of
it pulls the trigger, and so does every task when it ends, so the main
thread still flushes what is left. In every other state it answers as
waitress does.

``ReadsFirst`` orders the requests waiting for a worker: a read (GET, HEAD:
a case page, a search) goes before waiting writes, so a clerk looking
something up does not wait behind other windows' registrations, and a login
(``POST /login``) goes after every other request: each costs a password hash
of tens of milliseconds, and clients guessing passwords would otherwise keep
both workers from the window's work (bench/RESULTS.md, login under attack).
The request at the head is passed over at most ``MAX_PASSED`` times in a
row, so neither writes nor logins starve.
"""
import logging
from collections import deque

import waitress
from waitress.channel import HTTPChannel

# Two workers: one may wait on the disk or a long import while the other
# answers. More only contend for the one interpreter lock: with eight busy
# clients, 4 or 8 threads served fewer requests than 1 or 2 (bench/RESULTS.md).
THREADS = 2
MAX_PASSED = 8
READS = frozenset({"GET", "HEAD"})
LOGIN_PATH = "/login"


class QuietChannel(HTTPChannel):
    def writable(self):
        if self.requests and not (self.will_close or self.close_when_flushed):
            if not self.outbuf_lock.acquire(False):
                return False  # the task is sending: handle_write could do nothing now
            self.outbuf_lock.release()
        return super().writable()


class ReadsFirst(deque):
    """The waiting connections (waitress's task queue), taken reads first, then writes, then logins."""

    def __init__(self):
        super().__init__()
        self.passed = 0  # times the request at the head was passed over

    def popleft(self):
        if self.passed < MAX_PASSED:
            best, best_rank = 0, _rank(self[0])
            if best_rank > 0:
                for position, channel in enumerate(self):
                    rank = _rank(channel)
                    if rank < best_rank:
                        best, best_rank = position, rank
                        if rank == 0:
                            break
            if best:
                channel = self[best]
                del self[best]
                self.passed += 1
                return channel
        self.passed = 0
        return super().popleft()


def _rank(channel):
    """0 for a read, 1 for a write, 2 for a login attempt (a slow password hash)."""
    requests = getattr(channel, "requests", None)
    if not requests:
        return 1
    request = requests[0]
    if request.command in READS:
        return 0
    return 2 if request.command == "POST" and getattr(request, "path", "") == LOGIN_PATH else 1


def create(app, *, host, port, threads=THREADS):
    """The waitress server for ``app`` (port 0: a free one), with QuietChannel and ReadsFirst; not yet running."""
    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="county-app")
    server.channel_class = QuietChannel
    server.task_dispatcher.queue = ReadsFirst()
    return server


def serve(app, *, host, port, threads=THREADS):
    """Serve ``app`` until interrupted."""
    # Requests waiting for a worker are normal under load; waitress would log each one.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create(app, host=host, port=port, threads=threads)
    server.print_listen("Serving on http://{}:{}")
    server.run()
