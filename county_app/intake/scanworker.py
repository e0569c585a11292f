"""The checker process: every uploaded file is inspected (scanfile.inspect) in a child process, with a hard time limit.

Why a child process, measured (bench/scan_check_bench.py, bench/RESULTS.md):
pypdf and Pillow read every hostile 20 MB file we could make in time linear
in its size, but slowly — rebuilding the cross-reference table of a PDF of
723,000 small objects took 13–28 s, a chain of 280,000 xref sections 10 s,
against 15–63 ms for an honest 20 MB scan — and nothing in them can be
stopped from outside. In the server's process that time is also taken from
every other request, which needs the same interpreter lock. Here the
server's thread only waits (without the lock), and a check that overruns
CHECK_SECONDS ends by killing the child.

One child checks one file at a time and stays up between files: starting it
(a fresh interpreter importing pypdf and Pillow) costs ~0.6 s here and more
on an old window PC, where, as on Windows generally, multiprocessing spawns
(the frozen program calls ``freeze_support`` first in ``cli.main``). ``serve``
starts it (``warm``), a check starts it when it is not running, and a kill
or a crash starts its replacement at once.
"""
import logging
import multiprocessing
import threading
import warnings

from .. import childproc
from .errors import IntakeError
from .scanfile import Refused, inspect

CHECK_SECONDS = 5.0  # an honest 20 MB scan takes 15–63 ms (bench/RESULTS.md): ample on a slow PC too
START_SECONDS = 60.0  # a first start on a slow PC, while the antivirus looks at the program
# A second upload waits this long for the check before it, then gets Busy: an honest check is over in
# well under that, and a server thread waiting longer behind a hostile file is a thread the window lacks.
BUSY_SECONDS = 1.0
log = logging.getLogger(__name__)


class Busy(IntakeError):
    """Other files are being checked and this one could not wait (503)."""
    status, code = 503, "busy"


class _Checker:
    """The running child and our end of its pipe."""

    def __init__(self):
        context = multiprocessing.get_context("spawn")  # fork would copy the server's threads and locks
        self.connection, child_end = context.Pipe()
        self.process = context.Process(target=_serve, args=(child_end,), name="county-app scan check",
                                       daemon=True)
        self.process.start()
        child_end.close()
        self.ready = False

    def wait_ready(self):
        if not self.ready:
            if not self.connection.poll(START_SECONDS) or self.connection.recv() != ("ready",):
                raise EOFError("the checker process did not start")
            self.ready = True

    def stop(self):
        self.process.kill()
        self.process.join(5)
        self.connection.close()


_lock = threading.Lock()
_checker = None


def warm(wait=False):
    """Start the checker process now (``wait``: until it is ready), so that the next upload need not wait."""
    global _checker
    with _lock:
        if _checker is None or not _checker.process.is_alive():
            _checker = _Checker()
        if wait:
            _checker.wait_ready()


def stop():
    """End the checker process (the next check starts another)."""
    global _checker
    with _lock:
        if _checker is not None:
            _checker.stop()
            _checker = None


def check(data):
    """``(kind, pages)`` of ``data`` as scanfile.inspect, run in the checker process.

    Refused as inspect, also when the check takes longer than CHECK_SECONDS
    or ends the process; Busy when another check keeps the process more than
    BUSY_SECONDS.
    """
    global _checker
    if not _lock.acquire(timeout=BUSY_SECONDS):
        raise Busy("服务器正在检查其他上传的文件，请稍后再上传一次")
    try:
        try:
            if _checker is None or not _checker.process.is_alive():
                _checker = _Checker()
            _checker.wait_ready()
        except (EOFError, OSError):  # the program's fault, not the file's: try again later
            log.exception("the scan check process did not start")
            if _checker is not None:
                _checker.stop()
                _checker = None
            raise Busy("文件检查程序未能启动，请稍后再上传一次；如多次出现，请联系系统管理员") from None
        try:
            _checker.connection.send_bytes(data)
            answer = _checker.connection.recv() if _checker.connection.poll(CHECK_SECONDS) else None
        except (EOFError, OSError) as exc:  # the child died: a crash in a parser, or killed from outside
            log.warning("scan check process ended: %r", exc)
            _replace()
            raise Refused("无法检查这个文件（检查程序意外退出），请重新扫描后上传；如多次出现，请联系系统管理员",
                          detail=repr(exc)) from None
        if answer is None:
            _replace()
            raise Refused(f"文件在 {CHECK_SECONDS:g} 秒内未能检查完（文件结构异常），请重新扫描后上传",
                          detail=f"killed after {CHECK_SECONDS} s")
    finally:
        _lock.release()
    if answer[0] == "refused":
        raise Refused(answer[1], detail=answer[2])
    return answer[1], answer[2]


def _replace():
    """Kill the checker and start the next one now, so that the next upload finds it ready."""
    global _checker
    _checker.stop()
    _checker = None
    try:
        _checker = _Checker()
    except OSError:
        log.exception("could not start the scan check process; the next upload tries again")


# ----------------------------------------------------------------------------- in the child


def _serve(connection):
    """The checker process: answer every file sent on ``connection`` until the server closes it."""
    _settle()
    connection.send(("ready",))
    while True:
        try:
            data = connection.recv_bytes()
        except (EOFError, OSError):
            return  # the server has gone
        try:
            answer = ("ok", *inspect(data))
        except Refused as exc:
            answer = ("refused", exc.message, exc.detail)
        connection.send(answer)


def _settle():
    """Limits and quiet for the checker process, and its parsers loaded."""
    childproc.settle()
    import PIL.Image
    import PIL.JpegImagePlugin  # noqa: F401  (loaded now, so the first check does not pay for it)
    import PIL.PngImagePlugin  # noqa: F401
    import PIL.TiffImagePlugin  # noqa: F401
    import pypdf  # noqa: F401

    # Deliberately an error: the guard's warning means an image above MAX_IMAGE_PIXELS, refused.
    warnings.simplefilter("error", PIL.Image.DecompressionBombWarning)
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a broken file logs a line per broken object
