#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <string.h>
#include <errno.h>
#include "CShims.h"

int gantry_start_writeback(int fd, off_t offset, off_t length) {
#ifdef __linux__
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}

#ifdef __GLIBC__
#include <malloc.h>
#endif

void gantry_reuse_large_allocations(void) {
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
#endif
}

#ifndef GANTRY_REVISION
#define GANTRY_REVISION "unknown"
#endif

const char *gantry_revision(void) {
    return GANTRY_REVISION;
}

int gantry_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int gantry_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

int gantry_name_thread(pthread_t thread, const char *name) {
    return pthread_setname_np(thread, name);
}

int gantry_open_in_root(int root, const char *path, int flags, unsigned int mode) {
#ifdef SYS_openat2
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)flags;
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
#else
    (void)root; (void)path; (void)flags; (void)mode;
    errno = ENOSYS;
    return -1;
#endif
}

int gantry_o_path(void) {
    return O_PATH;
}

#include <sys/xattr.h>
#include <sys/mount.h>

int gantry_set_xattr(int fd, const char *name, const char *value, size_t size) {
    return fsetxattr(fd, name, value, size, 0);
}

int gantry_mount_overlay(const char *target, const char *options) {
    return mount("overlay", target, "overlay", 0, options);
}

int gantry_unmount_detached(const char *target) {
    return umount2(target, MNT_DETACH);
}
