"""The bubblewrap command line of a sandbox: namespaces, mounts, environment, seccomp."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from codebattle.judge.sandbox.spec import NOBODY, Bind

BASE_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/box", "LANG": "C.UTF-8", "TMPDIR": "/tmp"}


def system_binds() -> list[str]:
    """Read-only binds of the host's base system, honouring merged-/usr symlinks."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib64", "lib32", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), f"/{name}"]
        elif path.is_dir():
            args += ["--ro-bind", str(path), f"/{name}"]
    # The dynamic linker's cache speeds start-up; alternatives hold the java/javac links.
    for etc in ("/etc/ld.so.cache", "/etc/alternatives"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    return args


def bwrap_command(
    bwrap: str,
    system: Sequence[str],
    argv: Sequence[str],
    box: Path,
    tmp_size: int,
    bind_fds: Sequence[tuple[int | None, Bind]] = (),
    env: dict[str, str] | None = None,
    seccomp_fd: int | None = None,
) -> list[str]:
    """The bubblewrap command line. Folders are bound by path (the judge's own folders,
    which nobody can traverse); single files, such as test data, are handed over as file
    descriptors the judge opened (`--ro-bind-data`), so their folders may stay private."""
    args = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--uid",
        str(NOBODY),
        "--gid",
        str(NOBODY),
        "--hostname",
        "judge",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--cap-drop",
        "ALL",
        *system,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        # /dev/shm gets its own capped tmpfs: /dev itself is made read-only below.
        "--size",
        str(tmp_size),
        "--tmpfs",
        "/dev/shm",
        "--size",
        str(tmp_size),
        "--tmpfs",
        "/tmp",
        "--bind",
        str(box),
        "/box",
        "--chdir",
        "/box",
    ]
    for fd, bind in bind_fds:
        if fd is not None:
            args += ["--ro-bind-data", str(fd), bind.target]
        else:
            flag = "--bind" if bind.writable else "--ro-bind"
            args += [flag, str(bind.source), bind.target]
    # bubblewrap's root and /dev are tmpfs the sandbox's user owns, with no size cap:
    # make both read-only once every mount point exists, so writing /, /etc, /data or
    # /dev fails. /tmp, /box, /dev/shm and the device nodes are mounts of their own and stay
    # writable.
    args += ["--remount-ro", "/dev", "--remount-ro", "/"]
    for key, value in {**BASE_ENV, **(env or {})}.items():
        args += ["--setenv", key, value]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return [*args, "--", *argv]
