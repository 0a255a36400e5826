// An LD_PRELOAD shim for the disk-fault tests (issue 5, fault 6): it makes fsync/fdatasync, or
// write/pwrite/writev, fail with EIO on chosen files while a control file exists, so that a test
// turns a failing disk on and off under a running assas-agent.
//
//   LD_PRELOAD=<this .so> ASSAS_FAIL_IO_FLAG=<control file> [ASSAS_FAIL_IO_LOG=<file>] assas-agent
//
// While <control file> exists, each of its lines "<call> <path text>" makes <call> fail with EIO
// on every descriptor whose path (readlink /proc/self/fd/N) contains <path text>: call "fsync"
// covers fsync and fdatasync, "write" covers write, pwrite, pwrite64 and writev. Each failure made
// is appended as "<function> <path>" to ASSAS_FAIL_IO_LOG, so that the test can show where it hit.
// Without the control file every call goes straight to libc (one access() per call).
//
// Plain C with no sanitizer, so that it can be preloaded into any build of the agent.

#define _GNU_SOURCE
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { kFlagBytes = 4096, kPathBytes = 4096 };

// The whole control file, or 0 bytes when it does not exist.
static ssize_t read_flag(char* text, size_t size) {
  const char* flag = getenv("ASSAS_FAIL_IO_FLAG");  // read only: the agent never calls setenv
  if (flag == NULL || access(flag, F_OK) != 0) {
    return 0;
  }
  int fd = open(flag, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  ssize_t n = read(fd, text, size - 1);
  close(fd);
  if (n < 0) {
    return 0;
  }
  text[n] = '\0';
  return n;
}

// Whether `kind` ("fsync" or "write") is to fail on fd now; then records it in the failure log.
static int should_fail(int fd, const char* kind, const char* function) {
  int saved_errno = errno;
  char flag[kFlagBytes];
  int fail = 0;
  if (read_flag(flag, sizeof flag) > 0) {
    char link[64];
    char path[kPathBytes];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(link, path, sizeof path - 1);
    if (len > 0) {
      path[len] = '\0';
      char* save = NULL;
      for (char* line = strtok_r(flag, "\n", &save); line != NULL && !fail;
           line = strtok_r(NULL, "\n", &save)) {
        size_t kind_len = strlen(kind);
        if (strncmp(line, kind, kind_len) == 0 && line[kind_len] == ' ' &&
            strstr(path, line + kind_len + 1) != NULL) {
          fail = 1;
        }
      }
      const char* log = getenv("ASSAS_FAIL_IO_LOG");
      if (fail && log != NULL) {
        char entry[kPathBytes + 64];
        int n = snprintf(entry, sizeof entry, "%s %s\n", function, path);
        int log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (log_fd >= 0 && n > 0) {
          // The raw system call: write() here would come back into this shim.
          long ignored = syscall(SYS_write, log_fd, entry, (size_t)n);
          (void)ignored;
        }
        if (log_fd >= 0) {
          close(log_fd);
        }
      }
    }
  }
  errno = saved_errno;
  return fail;
}

static void* next(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == NULL) {
    abort();  // libc without this function: nothing sensible to do in a test shim
  }
  return f;
}

int fsync(int fd) {
  static int (*real)(int) = NULL;
  if (real == NULL) {
    real = (int (*)(int))next("fsync");
  }
  if (should_fail(fd, "fsync", "fsync")) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int) = NULL;
  if (real == NULL) {
    real = (int (*)(int))next("fdatasync");
  }
  if (should_fail(fd, "fsync", "fdatasync")) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

ssize_t write(int fd, const void* data, size_t size) {
  static ssize_t (*real)(int, const void*, size_t) = NULL;
  if (real == NULL) {
    real = (ssize_t(*)(int, const void*, size_t))next("write");
  }
  if (should_fail(fd, "write", "write")) {
    errno = EIO;
    return -1;
  }
  return real(fd, data, size);
}

ssize_t pwrite(int fd, const void* data, size_t size, off_t offset) {
  static ssize_t (*real)(int, const void*, size_t, off_t) = NULL;
  if (real == NULL) {
    real = (ssize_t(*)(int, const void*, size_t, off_t))next("pwrite");
  }
  if (should_fail(fd, "write", "pwrite")) {
    errno = EIO;
    return -1;
  }
  return real(fd, data, size, offset);
}

ssize_t pwrite64(int fd, const void* data, size_t size, off_t offset) {
  static ssize_t (*real)(int, const void*, size_t, off_t) = NULL;
  if (real == NULL) {
    real = (ssize_t(*)(int, const void*, size_t, off_t))next("pwrite64");
  }
  if (should_fail(fd, "write", "pwrite64")) {
    errno = EIO;
    return -1;
  }
  return real(fd, data, size, offset);
}

ssize_t writev(int fd, const struct iovec* iov, int count) {
  static ssize_t (*real)(int, const struct iovec*, int) = NULL;
  if (real == NULL) {
    real = (ssize_t(*)(int, const struct iovec*, int))next("writev");
  }
  if (should_fail(fd, "write", "writev")) {
    errno = EIO;
    return -1;
  }
  return real(fd, iov, count);
}
