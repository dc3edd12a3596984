"""Processes the tests start must not outlive them: a test run killed (a timeout, ^C twice,
SIGKILL) would leave a worker claiming the test database's outbox, or a server on its port,
and break the runs after it."""

import ctypes
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """For subprocess.Popen(preexec_fn=...): the child gets SIGTERM when the test process dies,
    however it dies (Linux's PR_SET_PDEATHSIG)."""
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
