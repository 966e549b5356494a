"""Boxes: the writable working directory of a sandbox, and reading back from a used one.

Security rule: after untrusted code ran in a box, the judge never resolves a path inside it.
What the judge needs back (compiled artifacts, validator feedback) is read with `read_box_file`
and `copy_box_tree`, which open relative to a directory file descriptor with O_NOFOLLOW and
accept regular files only (the class of bug behind Judge0's CVE-2024-28185/28189).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import uuid
from pathlib import Path

from codebattle.judge.sandbox.spec import MiB, SandboxError

BOX_SIZE = 512 * MiB  # a box's tmpfs cap (the memory limit usually binds first)
BOX_INODES = 32768


class Box:
    """A fresh directory for one run; the judge may fill it before the run, never after."""

    def __init__(self, root: Path, owner: int | None) -> None:
        # The owner's pid in the name lets a later judge sweep boxes of a judge that died.
        self.path = root / f"box-{os.getpid()}-{uuid.uuid4().hex}"
        self.path.mkdir(mode=0o700)
        # A box on the host's disk could be filled at disk speed for the whole wall time
        # (RLIMIT_FSIZE caps one file, not how many). As root, the box is a tmpfs:
        # its pages count towards the writer's memory cgroup (a full box is MLE) and the size
        # and inode caps bound it where there is no cgroup. Without root: a plain directory.
        self.mounted = owner is not None and mount_box_tmpfs(self.path, owner)
        if owner is not None:
            os.chown(self.path, owner, owner)

    @classmethod
    def existing(cls, path: Path) -> Box:
        """A box left on disk (by a judge that died), to be removed."""
        box = cls.__new__(cls)
        box.path, box.mounted = path, path.is_mount()
        return box

    def put(self, name: str, data: bytes, mode: int = 0o644) -> None:
        """Write a file before the run (nothing untrusted has touched the box yet)."""
        target = self.path / name
        target.write_bytes(data)
        target.chmod(mode)

    def remove(self) -> None:
        if self.mounted and umount_box_tmpfs(self.path):
            with contextlib.suppress(OSError):
                self.path.rmdir()  # the empty mount point
            return
        # rmtree uses the fd-based walk on Linux: symlinks are unlinked, never followed.
        shutil.rmtree(self.path, ignore_errors=True)


def mount_box_tmpfs(path: Path, owner: int) -> bool:
    import ctypes  # local: only root judges mount

    libc = ctypes.CDLL(None, use_errno=True)
    options = f"size={BOX_SIZE},nr_inodes={BOX_INODES},mode=0700,uid={owner},gid={owner}"
    ms_nosuid, ms_nodev = 2, 4
    rc: int = libc.mount(
        b"tmpfs", os.fsencode(path), b"tmpfs", ms_nosuid | ms_nodev, options.encode()
    )
    return rc == 0


def umount_box_tmpfs(path: Path) -> bool:
    import ctypes

    mnt_detach = 2  # the tmpfs and its files are freed with the last reference
    rc: int = ctypes.CDLL(None, use_errno=True).umount2(os.fsencode(path), mnt_detach)
    return rc == 0


def read_box_file(box: Box, relpath: str, max_bytes: int) -> bytes | None:
    """Read a regular file from a used box without following any symlink on the way."""
    dir_fd = os.open(box.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        parts = [p for p in relpath.split("/") if p]
        for part in parts[:-1]:
            if part in ("..", "."):
                return None
            next_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            os.close(dir_fd)
            dir_fd = next_fd
        fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return None
            return os.read(fd, max_bytes)
        finally:
            os.close(fd)
    except OSError:
        return None
    finally:
        os.close(dir_fd)


def copy_box_tree(box: Box, relpath: str, dest: Path, max_files: int, max_bytes: int) -> int:
    """Copy the regular files under a box folder to `dest` (symlinks and devices skipped)."""
    copied = total = 0
    base = box.path / relpath
    for top, _dirs, files, top_fd in os.fwalk(base, follow_symlinks=False):
        rel = os.path.relpath(top, base)
        for name in files:
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=top_fd)
            except OSError:
                continue
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    continue
                copied += 1
                total += info.st_size
                if copied > max_files or total > max_bytes:
                    raise SandboxError("compiled output is too large")
                out = dest / rel / name
                out.parent.mkdir(parents=True, exist_ok=True)
                with open(out, "wb") as fh:
                    while chunk := os.read(fd, 1 << 20):
                        fh.write(chunk)
                out.chmod(0o755 if info.st_mode & 0o111 else 0o644)
            finally:
                os.close(fd)
    return copied
