"""The seccomp deny-list applied to every sandboxed program, compiled to BPF with libseccomp.

bubblewrap loads the program (`--seccomp FD`) right before it executes the command, so
the filter covers the untrusted program and everything it starts, but not bubblewrap's own
set-up. The default action is to allow: this is a deny-list of calls no contest program needs
and that widen the kernel attack surface. Syscalls of other ABIs (32-bit x86, x32) are killed:
libseccomp's bad-architecture action applies because only the native ABI is in the filter.
"""

from __future__ import annotations

import errno
import socket
import tempfile
import termios
import threading

import pyseccomp as seccomp

# Calls refused with EPERM. Grouped by why.
DENIED_SYSCALLS: tuple[str, ...] = (
    # debugging and reading other processes
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    "perf_event_open",
    # kernel keyrings, eBPF, io_uring, userfaultfd: large attack surface
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    # namespaces and mounts
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "name_to_handle_at",
    "open_by_handle_at",
    # the machine itself
    "reboot",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "syslog",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "iopl",
    "ioperm",
    "lookup_dcookie",
    "vhangup",
    "nfsservctl",
    "uselib",
    "personality",
)

_CLONE_NAMESPACE_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)
_AF_VSOCK = 40

_lock = threading.Lock()
_cached: bytes | None = None


def build_filter() -> seccomp.SyscallFilter:
    flt = seccomp.SyscallFilter(seccomp.ALLOW)
    eperm = seccomp.ERRNO(errno.EPERM)
    for name in DENIED_SYSCALLS:
        try:
            flt.add_rule(eperm, name)
        except (OSError, ValueError):
            continue  # not a syscall on this architecture
    # clone3 passes flags in memory seccomp cannot read: refuse it with ENOSYS so libc
    # falls back to clone(), whose flags we can check.
    flt.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    # clone() creating any namespace (bubblewrap's --disable-userns also blocks user namespaces).
    for flag in _CLONE_NAMESPACE_FLAGS:
        flt.add_rule(eperm, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    # Faking terminal input (TIOCSTI) and console tricks (TIOCLINUX).
    for request in (termios.TIOCSTI, 0x541C):  # 0x541C = TIOCLINUX
        flt.add_rule(eperm, "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, request))
    # socket()'s family is an int: the kernel ignores the upper 32 bits of the register, but
    # seccomp sees all 64. Compare the low 32 bits only (as for ioctl above), or
    # socket(AF_VSOCK | 1 << 32, ...) slips through and reaches the hypervisor's vsock services
    # (vsock is not confined by the network namespace).
    for family in (_AF_VSOCK, socket.AF_PACKET):
        flt.add_rule(
            seccomp.ERRNO(errno.EAFNOSUPPORT),
            "socket",
            seccomp.Arg(0, seccomp.MASKED_EQ, 0xFFFFFFFF, family),
        )
    return flt


def bpf_program() -> bytes:
    """The compiled filter, built once per process (it is small: under a page)."""
    global _cached
    with _lock:
        if _cached is None:
            with tempfile.TemporaryFile() as out:
                build_filter().export_bpf(out)
                out.seek(0)
                _cached = out.read()
        return _cached
