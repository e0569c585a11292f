"""The HTTP server: waitress with QuietChannel, whose main loop does not spin while a task sends."""
import hashlib
import http.client
import threading
from concurrent.futures import ThreadPoolExecutor

from waitress.channel import HTTPChannel

from county_app.server import QuietChannel
from conftest import serving


def channel(**state):
    quiet = QuietChannel.__new__(QuietChannel)  # the rule only, without a socket
    quiet.requests, quiet.will_close, quiet.close_when_flushed = [], False, False
    quiet.total_outbufs_len, quiet.outbuf_lock = 0, threading.Condition()
    for key, value in state.items():
        setattr(quiet, key, value)
    return quiet


def held_by_a_task(quiet):
    """Hold the channel's buffer lock from another thread, as a task does while it sends."""
    taken, release = threading.Event(), threading.Event()

    def task():
        with quiet.outbuf_lock:
            taken.set()
            release.wait(5)

    worker = threading.Thread(target=task)
    worker.start()
    taken.wait(5)
    return release, worker


def test_a_connection_whose_task_is_sending_is_not_writable():
    quiet = channel(requests=["running"], total_outbufs_len=120)
    stock = HTTPChannel.writable(quiet)
    assert stock  # waitress itself would have select() wake the loop at once, again and again
    release, worker = held_by_a_task(quiet)
    try:
        assert not quiet.writable()
    finally:
        release.set()
        worker.join()
    assert quiet.writable()  # the lock is free: the main thread may flush what is left, as waitress does


def test_in_every_other_state_it_answers_as_waitress():
    for state in ({}, {"total_outbufs_len": 50}, {"will_close": True}, {"close_when_flushed": True},
                  {"requests": ["queued"]}, {"requests": ["queued"], "total_outbufs_len": 9}):
        quiet = channel(**state)
        assert bool(quiet.writable()) == bool(HTTPChannel.writable(quiet)), state
    closing = channel(requests=["running"], total_outbufs_len=5, will_close=True)
    release, worker = held_by_a_task(closing)
    try:
        assert closing.writable()  # a closing connection is still handled by the main loop
    finally:
        release.set()
        worker.join()


def big_answers(environ, start_response):
    """A WSGI app: ``/N`` answers N deterministic bytes in 64 KiB chunks."""
    size = int(environ["PATH_INFO"].strip("/"))
    block = hashlib.sha256(environ["PATH_INFO"].encode()).digest() * 2048  # 64 KiB
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))])
    return (block[:min(len(block), size - offset)] for offset in range(0, size, len(block)))


def test_answers_small_and_large_arrive_whole_on_kept_alive_connections():
    sizes = [10, 70_000, 3_000_000, 1, 18_000]
    with serving(big_answers, threads=2) as url:
        port = int(url.rsplit(":", 1)[1])

        def client(_):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            got = []
            for size in sizes:
                conn.request("GET", f"/{size}")
                response = conn.getresponse()
                body = response.read()
                got.append((response.status, len(body), body[:32] == big_answers_prefix(size)))
            conn.close()
            return got

        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(client, range(6)))
    assert results == [[(200, size, True) for size in sizes]] * 6


def big_answers_prefix(size):
    return (hashlib.sha256(f"/{size}".encode()).digest() * 2)[:min(32, size)]


class Waiting:
    """A stand-in for a connection waiting for a worker: its next request's method."""

    def __init__(self, name, method):
        self.name = name
        self.requests = [type("Request", (), {"command": method})()]


def test_reads_go_before_waiting_writes_but_a_write_is_passed_over_at_most_max_passed_times():
    from county_app.server import MAX_PASSED, ReadsFirst

    queue = ReadsFirst()
    queue.extend([Waiting("w1", "POST"), Waiting("r1", "GET"), Waiting("w2", "POST"), Waiting("r2", "HEAD")])
    assert [queue.popleft().name for _ in range(4)] == ["r1", "r2", "w1", "w2"]

    queue.append(Waiting("w", "POST"))
    queue.extend(Waiting(f"r{i}", "GET") for i in range(MAX_PASSED + 3))
    order = [queue.popleft().name for _ in range(MAX_PASSED + 4)]
    assert order[MAX_PASSED] == "w"  # not starved: it goes once MAX_PASSED reads went first
    assert order[:MAX_PASSED] == [f"r{i}" for i in range(MAX_PASSED)] and not queue


def test_the_server_refuses_a_huge_body_before_reading_it(live_server):
    """Waitress read up to 1 GB of anyone's body into a temporary file before the program saw it (issue 7)."""
    import socket
    import time
    from urllib.parse import urlsplit

    from county_app.limits import SERVER_BODY_LIMIT

    where = urlsplit(live_server)
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {100 * 1024 * 1024}\r\n\r\n".encode() + b"{" * 1024)
        started, answer = time.monotonic(), b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5  # answered at once, not after 100 MB
    assert SERVER_BODY_LIMIT < 100 * 1024 * 1024
