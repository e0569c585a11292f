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
(``POST /login``, or a password change, which also checks a password) goes
after every other request. The request at the head is
passed over at most ``MAX_PASSED`` times in a row, so neither writes nor
logins starve.

``Dispatcher`` serves at most one login at a time: each costs a password
hash of tens of milliseconds, and clients guessing passwords would otherwise
keep both workers hashing while the window's requests wait
(bench/RESULTS.md, login under attack). The hash (scrypt) runs without the
interpreter lock, so it takes the second core while the other worker
answers the window.
"""
import errno
import logging
import os
import socket
from collections import deque

import waitress
from waitress.channel import HTTPChannel
from waitress.task import ThreadedTaskDispatcher

from .limits import SERVER_BODY_LIMIT

# Two workers: one may wait on the disk or a long import while the other
# answers. More only contend for the one interpreter lock: with eight busy
# clients, 4 or 8 threads served fewer requests than 1 or 2 (bench/RESULTS.md).
THREADS = 2
MAX_PASSED = 8
READS = frozenset({"GET", "HEAD"})
LOGIN_PATHS = frozenset({"/login", "/account/password"})  # each POST costs password hashes
READ, WRITE, LOGIN = 0, 1, 2


class QuietChannel(HTTPChannel):
    def writable(self):
        if self.requests and not (self.will_close or self.close_when_flushed):
            if not self.outbuf_lock.acquire(False):
                return False  # the task is sending: handle_write could do nothing now
            self.outbuf_lock.release()
        return super().writable()


class ReadsFirst(deque):
    """The waiting connections (waitress's task queue), taken reads first, then writes, then logins.

    ``logins`` counts the logins being served; while one is, no other login
    is taken (``takeable`` says whether a worker may take anything now).
    """

    def __init__(self):
        super().__init__()
        self.passed = 0  # times the request at the head was passed over
        self.logins = 0

    def takeable(self):
        """Whether a worker may take a request now: any but a login while another login is served."""
        return any(not self._blocked(_rank(channel)) for channel in self)

    def popleft(self):
        position = self._next()
        channel = self[position]
        del self[position]
        self.passed = self.passed + 1 if position else 0
        if _rank(channel) == LOGIN:
            self.logins += 1
        return channel

    def login_done(self):
        self.logins -= 1

    def _blocked(self, rank):
        return rank == LOGIN and self.logins > 0

    def _next(self):
        """The position to take: the best rank not blocked, or the first one not blocked once the head was
        passed over MAX_PASSED times (the head itself when all are blocked: waitress cancelling at shutdown)."""
        best, best_rank = None, None
        for position, channel in enumerate(self):
            rank = _rank(channel)
            if self._blocked(rank):
                continue
            if self.passed >= MAX_PASSED or rank == READ:
                return position
            if best is None or rank < best_rank:
                best, best_rank = position, rank
        return best or 0


class Dispatcher(ThreadedTaskDispatcher):
    """waitress's task dispatcher with a ReadsFirst queue and at most one login served at a time."""

    def __init__(self):
        super().__init__()
        self.queue = ReadsFirst()

    def handler_thread(self, thread_no):
        # waitress 3's loop (waitress/task.py), waiting also while only a blocked login waits
        while True:
            with self.lock:
                while not self.queue.takeable() and self.stop_count == 0:
                    self.active_count -= 1
                    self.queue_cv.wait()
                    self.active_count += 1
                if self.stop_count > 0:
                    self.active_count -= 1
                    self.stop_count -= 1
                    self.threads.discard(thread_no)
                    self.thread_exit_cv.notify()
                    break
                task = self.queue.popleft()
                login = _rank(task) == LOGIN
            try:
                task.service()
            except BaseException:
                self.logger.exception("Exception when servicing %r", task)
            finally:
                if login:
                    with self.lock:
                        self.queue.login_done()
                        self.queue_cv.notify()  # a login that waited may go now


def _rank(channel):
    """READ, WRITE, or LOGIN for a login attempt (a slow password hash)."""
    requests = getattr(channel, "requests", None)
    if not requests:
        return WRITE
    request = requests[0]
    if request.command in READS:
        return READ
    return LOGIN if request.command == "POST" and getattr(request, "path", "") in LOGIN_PATHS else WRITE


class PortBusy(OSError):
    """The address cannot be listened on: another program holds the port (message in Chinese)."""


def listen(host, port):
    """A socket bound to ``host:port`` (port 0: a free one), or PortBusy.

    Bound here rather than by waitress, which sets ``SO_REUSEADDR`` everywhere:
    on Windows that option lets a second program bind a port another one
    listens on, and the two then share its connections silently. There the
    socket asks for the port alone (``SO_EXCLUSIVEADDRUSE``); elsewhere
    ``SO_REUSEADDR`` only lets a restart reuse a port its predecessor closed.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror:
        raise PortBusy(f"无法识别监听地址 {host}（请检查 --host）") from None
    sock = socket.socket(family, kind, proto)
    try:
        if os.name == "nt":  # pragma: no cover - Windows
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        # Windows answers 10013 (access denied) for a port another program holds exclusively
        if exc.errno == errno.EADDRINUSE or getattr(exc, "winerror", None) in (10048, 10013):
            raise PortBusy(f"端口 {port} 已被其他程序占用（或本程序已在运行）：请关闭占用它的程序，"
                           f"或用 --port 换一个端口") from None
        raise PortBusy(f"无法在 {host}:{port} 上监听：{exc.strerror or exc}") from None
    return sock


def create(app, *, host=None, port=None, threads=THREADS, sock=None, trusted_proxy=None):
    """The waitress server for ``app`` on ``sock``, or on ``host:port`` (port 0: a free one), with
    QuietChannel and Dispatcher; listening, not yet running.

    ``trusted_proxy``: the address of the reverse proxy that terminates TLS in front of the hub; from it
    alone ``X-Forwarded-Proto`` and ``X-Forwarded-For`` are believed (the request's scheme and client
    address). Without one, such headers stay as sent, so that a sync request forwarded by a proxy nobody
    declared is seen and refused (``sync.hub.require_https``; the app's ``BEHIND_PROXY`` says which).
    """
    dispatcher = Dispatcher()
    dispatcher.set_thread_count(threads)
    proxy = (dict(trusted_proxy=trusted_proxy, trusted_proxy_headers={"x-forwarded-proto", "x-forwarded-for"},
                  clear_untrusted_proxy_headers=True) if trusted_proxy
             else dict(clear_untrusted_proxy_headers=False))
    server = waitress.create_server(app, sockets=[sock or listen(host, port)], threads=threads,
                                    ident="county-app", max_request_body_size=SERVER_BODY_LIMIT,
                                    _dispatcher=dispatcher, **proxy)
    server.channel_class = QuietChannel
    return server


def run(server):
    """Serve until interrupted."""
    # Requests waiting for a worker are normal under load; waitress would log each one.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server.run()
