#ifndef GANTRY_CSHIMS_H
#define GANTRY_CSHIMS_H

#include <sys/types.h>
#include <spawn.h>
#include <pthread.h>
#include <stdint.h>

/// Starts asynchronous writeback of a file range (Linux sync_file_range with
/// SYNC_FILE_RANGE_WRITE), which Swift's Glibc module hides behind _GNU_SOURCE.
/// Returns 0, or -1 with errno set; elsewhere a no-op returning 0.
int gantry_start_writeback(int fd, off_t offset, off_t length);

/// Makes glibc serve large (up to 64 MiB) allocations from the heap and reuse
/// them, instead of mmap + page faults for each one. No-op elsewhere.
void gantry_reuse_large_allocations(void);

/// pipe2(fds, O_CLOEXEC): a pipe no child process inherits by accident (a
/// GNU function, hidden from Swift's Glibc module). Returns 0, or -1 with errno set.
int gantry_pipe_cloexec(int fds[2]);

/// Makes a posix_spawn child close every descriptor from `lowest` up, so it
/// inherits only 0, 1 and 2 whatever the parent has open (glibc 2.34+'s
/// posix_spawn_file_actions_addclosefrom_np). Returns 0 or an error number.
int gantry_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

/// pthread_setname_np: a thread's name for `top -H` and debuggers (at most 15
/// bytes; GNU-only, hidden from Swift's Glibc module). Returns 0 or an error number.
int gantry_name_thread(pthread_t thread, const char *name);

/// openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: opens `path` as if
/// `root` were "/", so absolute symlinks and ".." can never leave it (Linux 5.6+;
/// glibc has no wrapper). Returns a descriptor, or -1 with errno set.
int gantry_open_in_root(int root, const char *path, int flags, unsigned int mode);

/// O_PATH (GNU-only, hidden from Swift's Glibc module): a descriptor that names
/// a place without opening the file, for *at calls.
int gantry_o_path(void);

/// Starts a helper process inside the network namespace of process `target`
/// (joining its user namespace first when gantry is not root and it differs):
/// the way `gantry test` reaches a container's own loopback. On success returns
/// the helper's pid and sets `*channel`; on failure returns -1 and sets `*failure`
/// to an error number. Closing the channel ends the helper (reap it with waitpid);
/// it also dies with gantry.
pid_t gantry_connector_start(pid_t target, int *channel, int *failure);

/// Asks the helper for a TCP (IPv4) socket made in its namespace, not yet
/// connected: connecting it to 127.0.0.1 reaches the container's loopback.
/// Returns 0 and sets `*socket_fd` (close-on-exec), or an error number.
/// One request at a time per channel.
int gantry_connector_socket(int channel, int *socket_fd);

/// fsetxattr(2) (sys/xattr.h is not in Swift's Glibc module). 0, or -1 with errno.
int gantry_set_xattr(int fd, const char *name, const char *value, size_t size);

/// Mounts an overlay file system at `target` with `options`
/// ("lowerdir=…,upperdir=…,workdir=…"). Needs CAP_SYS_ADMIN. 0, or -1 with errno.
int gantry_mount_overlay(const char *target, const char *options);

/// umount2(target, MNT_DETACH). 0, or -1 with errno.
int gantry_unmount_detached(const char *target);

/// The git revision gantry was built from: scripts/install passes
/// -Xcc -DGANTRY_REVISION="…"; other builds say "unknown".
const char *gantry_revision(void);
#endif
