// floor: the least a container start can cost here — clone() into new mount, PID, UTS, IPC,
// network and cgroup namespaces, make the mounts private, chroot into ROOTFS and exec the
// command; the parent waits and returns its exit code. No /proc, no cgroup, no seccomp.
//   floor ROOTFS CMD [ARGS...]
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[1 << 16];
static char** g_argv;

static int child(void* arg) {
    (void)arg;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || chroot(g_argv[1]) < 0 ||
        chdir("/") < 0) {
        perror("floor: setup");
        return 127;
    }
    execv(g_argv[2], g_argv + 2);
    perror("floor: exec");
    return 127;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fputs("usage: floor ROOTFS CMD [ARGS...]\n", stderr);
        return 2;
    }
    g_argv = argv;
    int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
                CLONE_NEWCGROUP | SIGCHLD;
    pid_t pid = clone(child, stack + sizeof stack, flags, NULL);
    if (pid < 0) {
        perror("floor: clone");
        return 127;
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) return 127;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
