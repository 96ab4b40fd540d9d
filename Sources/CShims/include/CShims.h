#ifndef GANTRY_CSHIMS_H
#define GANTRY_CSHIMS_H

#include <sys/types.h>

/// Starts asynchronous writeback of a file range (Linux sync_file_range with
/// SYNC_FILE_RANGE_WRITE), which Swift's Glibc module hides behind _GNU_SOURCE.
/// Returns 0, or -1 with errno set; elsewhere a no-op returning 0.
int gantry_start_writeback(int fd, off_t offset, off_t length);

/// Makes glibc serve large (up to 64 MiB) allocations from the heap and reuse
/// them, instead of mmap + page faults for each one. No-op elsewhere.
void gantry_reuse_large_allocations(void);

/// The git revision gantry was built from: scripts/install passes
/// -Xcc -DGANTRY_REVISION="…"; other builds say "unknown".
const char *gantry_revision(void);
#endif
