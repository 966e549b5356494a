/*
 * codebattle launcher: set rlimits, drop to a user, execute bubblewrap.
 *
 *   launcher UID RESOURCE=VALUE... -- PROGRAM ARGS...
 *   launcher --gate FD PROGRAM ARGS...
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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

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

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--gate") == 0) return gate(argc, argv);
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
