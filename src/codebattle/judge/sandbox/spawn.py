"""Starting the launch chain, and handing the program's pipes to the sandbox's user."""

from __future__ import annotations

import os
import stat
import subprocess


def hand_over_pipes(drop_to: int | None, *fds: int | None) -> None:
    """A pipe belongs to whoever made it, the judge: give the program's stdin, stdout and
    stderr pipes to the sandbox's user, so that it may open /dev/stdout and the like
    (which reopen them). Other files, /dev/null included, are left alone."""
    if drop_to is None:
        return
    for fd in fds:
        if fd is not None and stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.fchown(fd, drop_to, drop_to)


def spawn(
    cmd: list[str], stdin_fd: int | None, out_w: int | None, err_w: int, pass_fds: list[int]
) -> int:
    """Start the launch chain. Popen without user= or preexec_fn can use vfork (no copy
    of the judge's memory), and close_fds keeps every descriptor but `pass_fds` away from
    the sandbox. bubblewrap itself runs as nobody: the user namespace it creates maps to
    nobody, so nothing in the sandbox is ever root on the host."""
    proc = subprocess.Popen(  # noqa: S603 - an argument list, never a shell string
        cmd,
        stdin=stdin_fd,
        stdout=out_w,
        stderr=err_w,
        pass_fds=pass_fds,
        close_fds=True,
        env={},
        start_new_session=True,
    )
    # We reap the child ourselves with wait4 (for rusage); tell Popen it is done.
    proc.returncode = 0
    pid: int = proc.pid
    return pid
