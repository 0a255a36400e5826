#include "base/config_files.h"

#include <cerrno>
#include <string>

#include <sys/stat.h>

namespace assas {

Status check_config_file(const ConfigNode& node, ConfigFileKind kind) {
  Result<std::string> path = node.as_string();
  if (!path.is_ok()) {
    return path.status();
  }
  struct stat st {};
  if (::stat(path->c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return node.error("file '" + *path + "' not found");
    }
    return node.error(posix_status("cannot use file '" + *path + "'", errno).message());
  }
  if (!S_ISREG(st.st_mode)) {
    return node.error("'" + *path + "' is not a regular file");
  }
  if (kind == ConfigFileKind::kPrivateKey && (st.st_mode & 077) != 0) {
    return node.error("key file '" + *path + "' is readable by group or others; run: chmod 600 " +
                      *path);
  }
  return Status::ok();
}

}  // namespace assas
