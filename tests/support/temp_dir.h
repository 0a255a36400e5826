#pragma once

// A fresh directory under $TMPDIR (or /tmp) for one test, removed with everything in it when the
// TempDir goes out of scope, unless ASSAS_KEEP_TEST_DIRS is set (for looking at a failure).

#include <string>

namespace assas::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "assas-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes text to path (creating or replacing it); aborts the test run on failure.
void write_text_file(const std::string& path, const std::string& text);
// Appends text to path.
void append_text_file(const std::string& path, const std::string& text);
// The whole file, or "" if it does not exist.
std::string read_text_file(const std::string& path);

}  // namespace assas::test
