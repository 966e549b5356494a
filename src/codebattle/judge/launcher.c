/*
 * codebattle launcher: set rlimits, drop to a user, execute bubblewrap.
 *
 *   launcher UID RESOURCE=VALUE... -- PROGRAM ARGS...
 *   launcher --gate FD PROGRAM ARGS...
 *   launcher --zygote FD
 *
 * UID -1 keeps the current user. Each RESOURCE is an RLIMIT_* number; soft and hard limits
 * are both set to VALUE. The program is killed when the judge thread that started it dies
 * (PR_SET_PDEATHSIG, set after the uid change, which would clear it): a judge killed with
 * SIGKILL leaves no sandbox behind. It replaces `setpriv` + `prlimit` (two dynamically linked
 * programs) on the judge's hot path: built static, it saves about 1.4 ms of CPU a run
 * (docs/decisions/0003-static-launcher.md). Any error exits 127 before anything runs.
 *
 * As the gate (run by bubblewrap in place of the program, from a descriptor the sandbox
 * inherits) it waits for the judge's byte on FD and only then executes the program, with
 * every descriptor above stderr closed. bubblewrap's --block-fd
 * carries on when its pipe hits end-of-file, and its init does not die with its parent while
 * it waits there: without the gate, a judge that died after preparing a sandbox would have
 * the program run unsupervised. On end-of-file the gate exits 125 and the sandbox ends.
 *
 * As the zygote (bubblewrap's --as-pid-1 program in a sandbox reused for the tests of one
 * submission, docs/decisions/0013-reused-sandboxes.md) it keeps one standby child ready for
 * the judge's next run. It forks the child with a SOCK_SEQPACKET pair and hands the judge its
 * end on the control socket FD ("S" with the descriptor). The child says "P" there (the
 * kernel attaches its pid, translated into the judge's pid namespace, so the judge can move
 * it into the run's cgroup), then waits for the run's request: rlimits, argv, and stdin,
 * stdout and stderr as descriptors. It sets them up, closes every descriptor above stderr
 * and executes the program. When the child is reaped the zygote reports
 * "X status utime_us stime_us maxrss_kb" on the same socket. When the judge says "C" (done
 * with the last run) the zygote kills every other process in the sandbox and waits until
 * none is left, empties /box, /tmp and /dev/shm and removes every System V IPC object, then
 * forks the next standby child; if it cannot clean up it answers "B" and the judge starts a
 * fresh sandbox. As pid 1 it cannot be signalled from inside the sandbox, it is not dumpable
 * (no /proc/1/mem, /proc/1/fd), and when the judge closes FD (or dies) it exits and the
 * kernel ends everything in the pid namespace.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif
#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif

static int fail(const char *what) {
    fprintf(stderr, "launcher: %s: %s\n", what, strerror(errno));
    return 127;
}

static int gate(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: launcher --gate FD PROGRAM ARGS...\n");
        return 127;
    }
    char *end = NULL;
    errno = 0;
    long fd = strtol(argv[2], &end, 10);
    if (errno || *end || fd < 0 || fd > 1 << 20) {
        fprintf(stderr, "launcher: bad gate fd %s\n", argv[2]);
        return 127;
    }
    char go;
    ssize_t got;
    do {
        got = read((int)fd, &go, 1);
    } while (got < 0 && errno == EINTR);
    if (got != 1) {
        fprintf(stderr, "launcher: the judge is gone; the program does not run\n");
        return 125;
    }
    /* The program gets stdin, stdout and stderr only: not this pipe, not the gate's own
       binary, nothing else bubblewrap passed on. */
    if (close_range(3, ~0U, 0) != 0) return fail("close_range");
    execvp(argv[3], argv + 3);
    return fail("execvp");
}


/* ---- the zygote ------------------------------------------------------------------------ */

#define MAX_REQUEST 65536
#define MAX_ITEMS 1024
#define WIPE_DEPTH 64
#define WIPE_ENTRIES 100000

static int sigchld_fd = -1;
static pid_t run_pid = 0;  /* the current run's child, 0 when none */
static int run_sock = -1;  /* the current run's socket */

static void say(int sock, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int sock, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n >= (int)sizeof msg) n = sizeof msg - 1;
    send(sock, msg, (size_t)n, MSG_NOSIGNAL);
}

/* Reap every child that has ended; report the run's own end on its socket. */
static void reap(void) {
    for (;;) {
        int status;
        struct rusage usage;
        pid_t pid = wait4(-1, &status, WNOHANG, &usage);
        if (pid <= 0) return;
        if (pid == run_pid) {
            say(run_sock, "X %d %lld %lld %ld", status,
                (long long)usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec,
                (long long)usage.ru_stime.tv_sec * 1000000 + usage.ru_stime.tv_usec,
                usage.ru_maxrss);
            close(run_sock);
            run_sock = -1;
            run_pid = 0;
        }
    }
}

static void drain_sigchld(void) {
    struct signalfd_siginfo info;
    while (read(sigchld_fd, &info, sizeof info) == sizeof info) {
    }
}

/* Kill every process in the sandbox but this one and wait until none is left (zombies are
   reaped here: orphans are this process's children). */
static int kill_all(void) {
    kill(-1, SIGKILL);
    for (int i = 0; i < 500; i++) {
        reap();
        if (kill(-1, 0) != 0 && errno == ESRCH) return 0;
        struct pollfd p = {sigchld_fd, POLLIN, 0};
        poll(&p, 1, 10);
        drain_sigchld();
        kill(-1, SIGKILL);
    }
    return -1;
}

/* Remove everything below the directory `dir` without following links. No other process
   exists while this runs, so nothing changes underneath. */
static int wipe_below(int dir, int depth, long *budget) {
    int fd = dup(dir);
    if (fd < 0) return -1;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (--*budget < 0) {
            rc = -1;
            break;
        }
        if (unlinkat(dir, e->d_name, 0) == 0) continue;
        if (errno != EISDIR && errno != EPERM) {
            rc = -1;
            break;
        }
        struct stat st;
        if (depth >= WIPE_DEPTH || fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode) || fchmodat(dir, e->d_name, 0700, 0) != 0) {
            rc = -1;
            break;
        }
        int sub = openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            rc = -1;
            break;
        }
        rc = wipe_below(sub, depth + 1, budget);
        close(sub);
        if (rc == 0 && unlinkat(dir, e->d_name, AT_REMOVEDIR) != 0) rc = -1;
        if (rc == 0) rewinddir(d);  /* entries may have moved while we removed */
    }
    if (rc == 0 && errno != 0) rc = -1;
    closedir(d);
    return rc;
}

static int wipe(const char *path) {
    int dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0) return -1;
    long budget = WIPE_ENTRIES;
    int rc = wipe_below(dir, 0, &budget);
    close(dir);
    return rc;
}

/* Remove every System V shared memory segment, semaphore set and message queue. */
static int wipe_ipc(void) {
    struct shm_info shm;
    int top = shmctl(0, SHM_INFO, (struct shmid_ds *)&shm);
    for (int i = 0; i <= top; i++) {
        struct shmid_ds ds;
        int id = shmctl(i, SHM_STAT_ANY, &ds);
        if (id >= 0) shmctl(id, IPC_RMID, NULL);
    }
    struct seminfo sem;
    top = semctl(0, 0, SEM_INFO, &sem);
    for (int i = 0; i <= top; i++) {
        struct semid_ds ds;
        int id = semctl(i, 0, SEM_STAT_ANY, &ds);
        if (id >= 0) semctl(id, 0, IPC_RMID);
    }
    struct msginfo msg;
    top = msgctl(0, MSG_INFO, (struct msqid_ds *)&msg);
    for (int i = 0; i <= top; i++) {
        struct msqid_ds ds;
        int id = msgctl(i, MSG_STAT_ANY, &ds);
        if (id >= 0) msgctl(id, IPC_RMID, NULL);
    }
    /* Check: nothing is left (a segment still attached would be; no process is left). */
    if (shmctl(0, SHM_INFO, (struct shmid_ds *)&shm) < 0 || shm.used_ids != 0) return -1;
    if (semctl(0, 0, SEM_INFO, &sem) < 0 || sem.semusz != 0) return -1;
    if (msgctl(0, MSG_INFO, (struct msqid_ds *)&msg) < 0 || msg.msgpool != 0) return -1;
    return 0;
}

/* Whatever the last run left: processes, files, IPC objects. NULL, or why it failed. */
static const char *clean_up(void) {
    if (kill_all() != 0) return "processes are left in the sandbox";
    if (wipe("/box") != 0 || wipe("/tmp") != 0 || wipe("/dev/shm") != 0)
        return "could not empty the box";
    if (wipe_ipc() != 0) return "could not remove the IPC objects";
    return NULL;
}

static char *next_item(char **cursor, char *end) {
    char *start = *cursor;
    if (start >= end) return NULL;
    char *nul = memchr(start, '\0', (size_t)(end - start));
    if (nul == NULL) return NULL;
    *cursor = nul + 1;
    return start;
}

static long item_count(char **cursor, char *end) {
    char *item = next_item(cursor, end);
    if (item == NULL) return -1;
    char *tail = NULL;
    errno = 0;
    long n = strtol(item, &tail, 10);
    if (errno || *tail || n < 0 || n > MAX_ITEMS) return -1;
    return n;
}

static void close_fds(int *fds, int n) {
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) close(fds[i]);
}

/* The standby child: says "P" (the kernel attaches its pid for the judge), waits for the
   run's request (rlimits, argv; stdin, stdout, stderr), sets it up and executes the
   program. By then the judge has moved it into the run's cgroup. Never returns. */
static void standby_child(int sock) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (send(sock, "P", 1, MSG_NOSIGNAL) != 1) _exit(125);
    static char buf[MAX_REQUEST + 1];
    char cbuf[CMSG_SPACE(3 * sizeof(int))];
    struct iovec iov = {buf, MAX_REQUEST};
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    ssize_t n;
    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) _exit(125); /* the judge is gone: no program runs */
    int io[3] = {-1, -1, -1};
    int nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < count && nfds < 3; i++)
                memcpy(&io[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        }
    }
    if (nfds != 3 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        say(sock, "E bad request");
        _exit(127);
    }
    buf[n] = '\0';
    char *cursor = buf, *end = buf + n;
    char *limits[MAX_ITEMS + 1], *argv[MAX_ITEMS + 1];
    long nlimits = item_count(&cursor, end);
    for (long i = 0; nlimits >= 0 && i < nlimits; i++)
        if ((limits[i] = next_item(&cursor, end)) == NULL) nlimits = -1;
    long argc = nlimits < 0 ? -1 : item_count(&cursor, end);
    for (long i = 0; argc > 0 && i < argc; i++)
        if ((argv[i] = next_item(&cursor, end)) == NULL) argc = -1;
    if (argc < 1) {
        say(sock, "E bad request");
        _exit(127);
    }
    argv[argc] = NULL;
    for (int i = 0; i < 3; i++) {
        if (dup2(io[i], i) < 0) {
            say(sock, "E dup2: %s", strerror(errno));
            _exit(127);
        }
    }
    for (long i = 0; i < nlimits; i++) {
        int resource;
        unsigned long long value;
        char extra;
        if (sscanf(limits[i], "%d=%llu%c", &resource, &value, &extra) != 2) {
            say(sock, "E bad limit %s", limits[i]);
            _exit(127);
        }
        struct rlimit limit = {(rlim_t)value, (rlim_t)value};
        if (setrlimit(resource, &limit) != 0) {
            say(sock, "E setrlimit %d: %s", resource, strerror(errno));
            _exit(127);
        }
    }
    if (close_range(3, ~0U, 0) != 0) _exit(127);
    execvp(argv[0], argv);
    fprintf(stderr, "launcher: execvp %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Fork the next run's standby child and hand the judge its socket ("S"), or say why not
   ("B"): then the judge starts a fresh sandbox. */
static void make_standby(int control, const char *broken) {
    int pair[2] = {-1, -1};
    if (broken == NULL && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
        broken = "socketpair failed";
    int on = 1;
    if (broken == NULL && setsockopt(pair[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0)
        broken = "SO_PASSCRED failed";
    pid_t pid = broken == NULL ? fork() : -1;
    if (broken == NULL && pid < 0) broken = "fork failed";
    if (broken != NULL) {
        say(control, "B %s", broken);
        close_fds(pair, 2);
        return;
    }
    if (pid == 0) {
        close(control);
        close(sigchld_fd);
        close(pair[1]);
        standby_child(pair[0]);
    }
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = {"S", 1};
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pair[1], sizeof(int));
    sendmsg(control, &msg, MSG_NOSIGNAL); /* if the judge is gone, end-of-file follows */
    close(pair[1]);
    if (run_sock >= 0) close(run_sock); /* a run that was never reaped (cannot happen) */
    run_pid = pid;
    run_sock = pair[0];
}

/* One message from the judge: "C" (the last run is over: clean up, then a new standby).
   Returns -1 when the control socket is gone: the zygote then exits. */
static int serve(int control) {
    char buf[16];
    ssize_t n = recv(control, buf, sizeof buf, 0);
    if (n < 0) return errno == EINTR ? 0 : -1;
    if (n == 0) return -1;
    if (n == 1 && buf[0] == 'C') {
        reap();
        make_standby(control, clean_up());
    } else {
        say(control, "B bad message");
    }
    return 0;
}

static int zygote(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: launcher --zygote FD\n");
        return 127;
    }
    char *end = NULL;
    errno = 0;
    long control = strtol(argv[2], &end, 10);
    if (errno || *end || control < 0 || control > 1 << 20) {
        fprintf(stderr, "launcher: bad zygote fd %s\n", argv[2]);
        return 127;
    }
    if (prctl(PR_SET_DUMPABLE, 0) != 0) return fail("prctl");
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &chld, NULL) != 0) return fail("sigprocmask");
    sigchld_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sigchld_fd < 0) return fail("signalfd");
    if (fcntl((int)control, F_SETFD, FD_CLOEXEC) != 0) return fail("fcntl");
    make_standby((int)control, NULL); /* the first run finds the box as the judge filled it */
    for (;;) {
        struct pollfd p[2] = {{(int)control, POLLIN, 0}, {sigchld_fd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return fail("poll");
        }
        if (p[1].revents) {
            drain_sigchld();
            reap();
        }
        if (p[0].revents && serve((int)control) != 0) return 0;
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--gate") == 0) return gate(argc, argv);
    if (argc > 1 && strcmp(argv[1], "--zygote") == 0) return zygote(argc, argv);
    if (argc < 4) {
        fprintf(stderr, "usage: launcher UID RESOURCE=VALUE... -- PROGRAM ARGS...\n");
        return 127;
    }
    pid_t parent = getppid();
    char *end = NULL;
    errno = 0;
    long uid = strtol(argv[1], &end, 10);
    if (errno || *end || uid < -1) {
        fprintf(stderr, "launcher: bad uid %s\n", argv[1]);
        return 127;
    }
    int i = 2;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        int resource;
        unsigned long long value;
        char extra;
        if (sscanf(argv[i], "%d=%llu%c", &resource, &value, &extra) != 2) {
            fprintf(stderr, "launcher: bad limit %s\n", argv[i]);
            return 127;
        }
        struct rlimit limit = {(rlim_t)value, (rlim_t)value};
        if (setrlimit(resource, &limit) != 0) return fail("setrlimit");
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "launcher: no program after --\n");
        return 127;
    }
    if (uid >= 0) {
        uid_t id = (uid_t)uid;
        if (setgroups(0, NULL) != 0) return fail("setgroups");
        if (setresgid(id, id, id) != 0) return fail("setresgid");
        if (setresuid(id, id, id) != 0) return fail("setresuid");
        if (getuid() != id || geteuid() != id || setuid(0) == 0) {
            fprintf(stderr, "launcher: could not drop to uid %ld\n", uid);
            return 127;
        }
    }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return fail("prctl");
    if (getppid() != parent) return 127; /* the judge died before prctl */
    execv(argv[i + 1], argv + i + 1);
    return fail("execv");
}
