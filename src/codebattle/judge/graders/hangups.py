"""Which side of an interaction ended first, seen by one waiter on both pipes.

Each sandbox's end is stamped by its own supervising thread; under CPU load those threads
wake late, and an interactor that rejected and exited could look later than a submission
that crashed on the end of its input a moment after (WA turned into RE). Here one thread
holds an extra read end of each pipe (never read) and polls both: a pipe hangs up when the
side writing to it has closed its output, i.e. ended. The first hang-up names the side that
ended first; two seen in the same wake-up are a tie (`first` stays None).

While held, an extra read end keeps the writer from getting EPIPE; so once one side has
ended, the read end of the pipe it read from is closed at once (its writer then gets EPIPE
as before), and both are closed when the interaction is over.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading

INTERACTOR, SUBMISSION = "interactor", "submission"
_POLL_MS = 200  # how often the waiter looks at `stop` while neither side has ended


class HangupWatch:
    def __init__(self, to_submission_r: int, from_submission_r: int) -> None:
        """`to_submission_r`: the submission's stdin (the interactor writes it);
        `from_submission_r`: the interactor's stdin (the submission writes it). Call
        before either end is handed to a sandbox; `close()` when the interaction is over."""
        self._interactor_out = os.dup(to_submission_r)  # hangs up: the interactor ended
        self._submission_out = os.dup(from_submission_r)  # hangs up: the submission ended
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.first: str | None = None
        self._thread = threading.Thread(target=self._wait, daemon=True)
        self._thread.start()

    def _wait(self) -> None:
        poller = select.poll()
        sides = {self._interactor_out: INTERACTOR, self._submission_out: SUBMISSION}
        for fd in sides:
            poller.register(fd, select.POLLHUP)
        while not self._stop.is_set():
            ended = {
                sides[fd]
                for fd, events in poller.poll(_POLL_MS)
                if events & (select.POLLHUP | select.POLLERR | select.POLLNVAL)
            }
            if not ended:
                continue
            if len(ended) == 1:
                self.first = ended.pop()
            # The ended side's reader (the other side's stdin holder) gets its EPIPE back.
            self._release()
            return

    def _release(self) -> None:
        with self._lock:
            for fd in (self._interactor_out, self._submission_out):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._interactor_out = self._submission_out = -1

    def close(self) -> str | None:
        """Stop watching; the side that ended first, or None (a tie, or not seen)."""
        self._stop.set()
        self._thread.join()
        self._release()
        return self.first
