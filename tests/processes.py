"""Processes the tests start must not outlive them: a test run killed (a timeout, ^C twice,
SIGKILL) would leave a worker claiming the test database's outbox, or a server on its port,
and break the runs after it."""

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1
# Looked up here, not in the child: between fork and exec a child of a threaded process should
# run as little as it can (no dlopen, no locks).
_prctl = ctypes.CDLL(None, use_errno=True).prctl
_parent = os.getpid()  # the test process: Popen is called from it


def die_with_parent() -> None:
    """For subprocess.Popen(preexec_fn=...): the child gets SIGTERM when the test process dies,
    however it dies (Linux's PR_SET_PDEATHSIG), even if it died before the child asked."""
    if _prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != _parent:  # the test process died already: there is no one to signal us
        os._exit(1)
