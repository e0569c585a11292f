"""Children that read untrusted files stay out of the server's way (childproc.settle)."""
import multiprocessing
import os
import signal

import pytest

from county_app import childproc

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX limits")


def _report(pipe):
    import resource

    childproc.settle()
    pipe.send((resource.getrlimit(resource.RLIMIT_AS)[0], os.nice(0), signal.getsignal(signal.SIGINT)))
    try:
        bytearray(2 * childproc.MEMORY_LIMIT)  # what a hostile file could ask a parser for
        pipe.send("allocated")
    except MemoryError:
        pipe.send("refused")


def test_a_settled_child_has_its_memory_capped_a_lower_priority_and_leaves_ctrl_c_to_the_server():
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_report, args=(sender,))
    child.start()
    try:
        limit, niceness, on_interrupt = receiver.recv()
        assert limit == childproc.MEMORY_LIMIT
        assert niceness >= os.nice(0) + 10 or niceness == 19
        assert on_interrupt == signal.SIG_IGN
        assert receiver.recv() == "refused"
    finally:
        child.join(10)
