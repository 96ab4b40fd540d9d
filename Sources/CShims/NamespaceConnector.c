// A helper process that makes TCP sockets inside another process's network
// namespace (a container's) and hands them back: how `gantry
// test` reaches an app whose loopback is its own, as root or rootless, without
// publishing a port on the host. See CShims.h for the contract.
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "CShims.h"

static int same_namespace(int a, int b) {
    struct stat first, second;
    if (fstat(a, &first) != 0 || fstat(b, &second) != 0) return 0;
    return first.st_dev == second.st_dev && first.st_ino == second.st_ino;
}

static void send_status(int channel, int32_t status, int socket_fd) {
    struct iovec part = { &status, sizeof status };
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    memset(&control, 0, sizeof control);
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    if (socket_fd >= 0) {
        message.msg_control = control.space;
        message.msg_controllen = sizeof control.space;
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(header), &socket_fd, sizeof(int));
    }
    while (sendmsg(channel, &message, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
}

// The child: only system calls from here on (it was forked from a
// multithreaded process, so no malloc, no locks, no stdio).
static void serve(int channel, int user_fd, int net_fd, pid_t parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(1);
    if (user_fd >= 0 && setns(user_fd, CLONE_NEWUSER) != 0) { send_status(channel, errno, -1); _exit(1); }
    if (setns(net_fd, CLONE_NEWNET) != 0) { send_status(channel, errno, -1); _exit(1); }
    // Keep nothing of the parent's but the channel: a copy of one of its pipes
    // held here would keep a reader waiting for an end that never comes.
    if (dup2(channel, 0) != 0) { send_status(channel, errno, -1); _exit(1); }
    syscall(SYS_close_range, 1U, ~0U, 0U);
    send_status(0, 0, -1);
    for (;;) {
        // A request is one byte, "a socket please"; the answer an unconnected TCP
        // socket made here, so it belongs to this network namespace wherever it is used.
        char request = 0;
        ssize_t got = recv(0, &request, sizeof request, 0);
        if (got == 0) _exit(0);
        if (got < 0) { if (errno == EINTR) continue; _exit(1); }
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) { send_status(0, errno, -1); continue; }
        send_status(0, 0, fd);
        close(fd);
    }
}

static int receive_status(int channel, int *socket_fd) {
    // socket_fd NULL: a status alone (the start-up handshake), no descriptor expected.
    int32_t status = EPROTO;
    struct iovec part = { &status, sizeof status };
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    message.msg_control = control.space;
    message.msg_controllen = sizeof control.space;
    ssize_t got;
    while ((got = recvmsg(channel, &message, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
    if (got < 0) return errno;
    if (got == 0) return ECONNRESET;  // the helper is gone
    if (got != sizeof status) return EPROTO;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (header && header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
        int fd;
        memcpy(&fd, CMSG_DATA(header), sizeof fd);
        if (status == 0 && socket_fd) *socket_fd = fd; else close(fd);
    } else if (status == 0 && socket_fd) {
        return EPROTO;
    }
    return status;
}

pid_t gantry_connector_start(pid_t target, int *channel, int *failure) {
    char path[64];
    *failure = 0;
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)target);
    int net_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (net_fd < 0) { *failure = errno; return -1; }
    int user_fd = -1;
    if (geteuid() != 0) {
        // Rootless: the container's network namespace belongs to its user
        // namespace, which must be joined first to have rights over it.
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int)target);
        user_fd = open(path, O_RDONLY | O_CLOEXEC);
        int own = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
        if (user_fd < 0 || own < 0) {
            *failure = errno;
            if (user_fd >= 0) close(user_fd);
            if (own >= 0) close(own);
            close(net_fd);
            return -1;
        }
        if (same_namespace(user_fd, own)) { close(user_fd); user_fd = -1; }
        close(own);
    }
    int ends[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
        *failure = errno;
        close(net_fd);
        if (user_fd >= 0) close(user_fd);
        return -1;
    }
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        close(ends[0]);
        serve(ends[1], user_fd, net_fd, parent);
        _exit(1);
    }
    int forked = errno;
    close(ends[1]);
    close(net_fd);
    if (user_fd >= 0) close(user_fd);
    if (child < 0) { close(ends[0]); *failure = forked; return -1; }
    int status = receive_status(ends[0], NULL);
    if (status != 0) {
        close(ends[0]);
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
        *failure = status;
        return -1;
    }
    *channel = ends[0];
    return child;
}

int gantry_connector_socket(int channel, int *socket_fd) {
    char request = 1;
    while (send(channel, &request, sizeof request, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR) return errno;
    }
    return receive_status(channel, socket_fd);
}
