"""What a child process of the server does first: stay out of the server's way.

Untrusted files are read in child processes (intake/scanworker.py: the scan
checker; catalogue/checks.py: catalogue checks and imports), so that a
hostile file costs neither the server's interpreter lock nor its memory,
and a check past its time can be killed. Each child calls ``settle`` first:
Ctrl+C in the server's console is the server's to handle (it stops the
children); the server's threads go first on a busy PC; and, where the
system allows it, the child's address space is capped, so that a file
which asks a parser for gigabytes fails in the child alone.
"""
import os
import signal

MEMORY_LIMIT = 1 << 30  # address space (POSIX only): the scan check used at most 340 MB, a catalogue 153 MB


def settle(memory_limit=MEMORY_LIMIT):
    """Ignore Ctrl+C, lower this process's priority and cap its address space (where the system can)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(10)
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    except (AttributeError, ImportError, OSError, ValueError):
        pass  # Windows: no nice, no address-space limit; the time limit still holds
