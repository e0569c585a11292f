"""Test helper: a TCP proxy on loopback whose link drops every few hundred KB, part-way through requests and answers.

    with FlakyProxy(hub_port, cut_every=(200_000, 600_000)) as proxy:
        ... point sync.url at proxy.url ...
        proxy.cuts  # how many connections it cut

Bytes are counted over all connections and both directions; each time the
count passes the next cut point (drawn at random between the two figures,
from a seeded generator so that a run can be repeated) the connection that
carries that byte is cut right there: the bytes before the point are
forwarded, then both sides are reset (SO_LINGER 0), so the client sees a
request or an answer broken off in the middle, the way a weak link does.
"""
import random
import socket
import struct
import threading

PIECE = 16 * 1024


class FlakyProxy:
    def __init__(self, target_port, *, cut_every=(200_000, 600_000), seed=1, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.cut_every = cut_every
        self.cuts = 0
        self.forwarded = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._next_cut = self._draw()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopping = threading.Event()
        self._threads = []

    def __enter__(self):
        accepting = threading.Thread(target=self._accept, daemon=True)
        accepting.start()
        self._threads.append(accepting)
        return self

    def __exit__(self, *exc):
        self._stopping.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _draw(self):
        return self.forwarded + self._random.randint(*self.cut_every)

    def _accept(self):
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                _reset(client)
                continue
            client.settimeout(0.5)
            server.settimeout(0.5)
            link = _Link(client, server)
            for source, sink in ((client, server), (server, client)):
                pump = threading.Thread(target=self._pump, args=(link, source, sink), daemon=True)
                pump.start()
                self._threads.append(pump)

    def _pump(self, link, source, sink):
        while not self._stopping.is_set() and not link.closed:
            try:
                data = source.recv(PIECE)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                link.ended(sink)  # an ordinary end of a request or an answer: passed on
                return
            with self._lock:
                room = self._next_cut - self.forwarded
                cut = len(data) >= room
                if cut:
                    data = data[:room]
                    self.cuts += 1
                self.forwarded += len(data)
                if cut:
                    self._next_cut = self._draw()
            try:
                sink.sendall(data)
            except OSError:
                break
            if cut:
                break
        link.close()


class _Link:
    def __init__(self, client, server):
        self.client, self.server, self.closed = client, server, False
        self._lock = threading.Lock()
        self._ended = 0

    def ended(self, sink):
        """One direction reached its end: half-close the other side; both ended, close quietly."""
        with self._lock:
            self._ended += 1
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            if self._ended == 2 and not self.closed:
                self.closed = True
                self.client.close()
                self.server.close()

    def close(self):
        with self._lock:
            if not self.closed:
                self.closed = True
                _reset(self.client)
                _reset(self.server)


def _reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()
