#include "base/file_util.h"

#include <cerrno>

#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

namespace assas {

// Log files past 2 GiB: stat() and pread() need a 64-bit off_t, which 32-bit targets (armhf
// gateways) get from _FILE_OFFSET_BITS=64 in the top-level CMakeLists.txt.
static_assert(sizeof(off_t) == 8, "32-bit off_t: build with -D_FILE_OFFSET_BITS=64");

Status write_all(int fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return posix_status(std::string("write ") + std::string(what), errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

Status pwrite_all(int fd, std::string_view data, off_t offset, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), offset);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return posix_status(std::string("write ") + std::string(what), errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += n;
  }
  return Status::ok();
}

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return posix_status("open '" + path + "'", errno);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      Status s = posix_status("read '" + path + "'", errno);
      ::close(fd);
      return s;
    }
    if (n == 0) {
      break;
    }
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      ::close(fd);
      return invalid_argument("'" + path + "' is larger than " + std::to_string(max_bytes) +
                              " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status ensure_private_dir(const std::string& dir) {
  if (dir.empty()) {
    return invalid_argument("empty directory name");
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return invalid_argument("'" + dir + "' exists and is not a directory");
    }
    if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
      return posix_status("chmod 0700 '" + dir + "'", errno);
    }
    return Status::ok();
  }
  std::string parent = dir_name(dir);
  if (parent != dir && parent != "." && parent != "/") {
    struct stat pst {};
    if (::stat(parent.c_str(), &pst) != 0) {
      // Parents are created 0755 like mkdir -p; only the leaf holds state.
      if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
        ASSAS_RETURN_IF_ERROR(ensure_private_dir(parent));
        if (::chmod(parent.c_str(), 0755) != 0) {
          return posix_status("chmod '" + parent + "'", errno);
        }
      }
    }
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return posix_status("create directory '" + dir + "'", errno);
  }
  if (::chmod(dir.c_str(), 0700) != 0) {  // the umask may have narrowed it; make it exact
    return posix_status("chmod 0700 '" + dir + "'", errno);
  }
  return Status::ok();
}

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return posix_status("open directory '" + dir + "'", errno);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return posix_status("fsync directory '" + dir + "'", err);
  }
  return Status::ok();
}

Status atomic_write_file(const std::string& path, std::string_view data, bool durable) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return posix_status("create '" + tmp + "'", errno);
  }
  Status s = write_all(fd, data, tmp);
  if (s.is_ok() && durable && ::fsync(fd) != 0) {
    s = posix_status("fsync '" + tmp + "'", errno);
  }
  if (::close(fd) != 0 && s.is_ok()) {
    s = posix_status("close '" + tmp + "'", errno);
  }
  if (s.is_ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = posix_status("rename '" + tmp + "' to '" + path + "'", errno);
  }
  if (!s.is_ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return durable ? fsync_dir(dir_name(path)) : Status::ok();
}

std::string dir_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    return ".";
  }
  if (slash == 0) {
    return "/";
  }
  return path.substr(0, slash);
}

}  // namespace assas
