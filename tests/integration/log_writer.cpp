#include "tests/integration/log_writer.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace assas::test {

namespace {

void check(bool ok, const std::string& what) {
  if (!ok) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
  }
}

void write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    check(n > 0, "write");
    done += static_cast<size_t>(n);
  }
}

int open_append(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  check(fd >= 0, "open " + path);
  return fd;
}

std::string tail_of(const std::string& text, size_t bytes) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

}  // namespace

LogWriter::LogWriter(std::string path, std::string tag)
    : path_(std::move(path)), tag_(std::move(tag)), fd_(open_append(path_)) {}

LogWriter::~LogWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::string LogWriter::line(int n) const {
  // Realistic text after the id; no '#', so ids are unambiguous.
  static const char* const kTexts[] = {
      "sshd[24200]: Invalid user webmaster from 173.234.31.186 port 38926",
      "kernel: audit: type=1400 apparmor=\"DENIED\" operation=\"open\" profile=\"/usr/sbin/named\"",
      "nginx: 10.1.2.3 - - \"GET /api/v1/permits?id=77 HTTP/1.1\" 200 512 \"-\" \"curl/7.88\"",
      "sudo: admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; COMMAND=/usr/bin/systemctl restart"};
  return tag_ + "#" + std::to_string(n) + " " + kTexts[n % 4];
}

void LogWriter::write(int n) {
  for (int i = 0; i < n; ++i) {
    int id = static_cast<int>(ids_.size());
    write_all(fd_, line(id) + "\n");
    ids_.push_back(tag_ + "#" + std::to_string(id));
    if (i % 100 == 99) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
}

void LogWriter::write_raw(const std::string& bytes) {
  write_all(fd_, bytes);
}

void LogWriter::write_incompressible(int n) {
  std::mt19937_64 random(ids_.size() + 7);
  std::string text;
  for (int i = 0; i < n; ++i) {
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016llx%016llx",
                  static_cast<unsigned long long>(random()),   // NOLINT(google-runtime-int)
                  static_cast<unsigned long long>(random()));  // NOLINT(google-runtime-int)
    std::string id = tag_ + "#" + std::to_string(ids_.size());
    text += id + " session=" + hex + " token=" + std::string(hex, 12) + " upload rejected\n";
    ids_.push_back(std::move(id));
  }
  write_all(fd_, text);
}

void LogWriter::shift(int keep) {
  for (int k = keep - 1; k >= 1; --k) {
    std::string from = path_ + "." + std::to_string(k);
    std::string to = path_ + "." + std::to_string(k + 1);
    if (::access(from.c_str(), F_OK) == 0) {
      check(::rename(from.c_str(), to.c_str()) == 0, "rename " + from);
    }
  }
}

void LogWriter::rename_rotate(int keep) {
  shift(keep);
  std::string first = path_ + ".1";
  check(::rename(path_.c_str(), first.c_str()) == 0, "rename " + path_);
}

void LogWriter::reopen() {
  ::close(fd_);
  fd_ = open_append(path_);
}

void LogWriter::copytruncate_rotate(int keep) {
  shift(keep);
  std::string copy = path_ + ".1";
  int in = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  check(in >= 0, "open " + path_);
  int out = ::open(copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  check(out >= 0, "open " + copy);
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(in, buf, sizeof buf);
    check(n >= 0, "read " + path_);
    if (n == 0) {
      break;
    }
    write_all(out, std::string(buf, static_cast<size_t>(n)));
  }
  ::close(in);
  ::close(out);
  check(::ftruncate(fd_, 0) == 0, "ftruncate " + path_);
}

void LogWriter::truncate() {
  check(::ftruncate(fd_, 0) == 0, "ftruncate " + path_);
}

void LogWriter::unlink() {
  check(::unlink(path_.c_str()) == 0, "unlink " + path_);
}

std::vector<std::string> received_ids(const std::vector<ReceivedEvent>& events) {
  std::vector<std::string> ids;
  for (const ReceivedEvent& e : events) {
    const std::string& m = e.message;
    for (size_t hash = m.find('#'); hash != std::string::npos; hash = m.find('#', hash + 1)) {
      size_t start = hash;
      while (start > 0 && std::isalpha(static_cast<unsigned char>(m[start - 1])) != 0) {
        --start;
      }
      size_t end = hash + 1;
      while (end < m.size() && std::isdigit(static_cast<unsigned char>(m[end])) != 0) {
        ++end;
      }
      if (start < hash && end > hash + 1) {
        ids.push_back(m.substr(start, end - start));
      }
    }
  }
  return ids;
}

std::vector<std::string> all_ids(std::initializer_list<const LogWriter*> writers) {
  std::vector<std::string> ids;
  for (const LogWriter* w : writers) {
    ids.insert(ids.end(), w->ids().begin(), w->ids().end());
  }
  return ids;
}

PacedWriter::PacedWriter(const std::string& path, int total, int rotate_every, int per_tick,
                         std::chrono::milliseconds tick, const std::string& tag)
    : writer_(path, tag), thread_([this, total, rotate_every, per_tick, tick] {
        int since_rotation = 0;
        while (written_.load() < total) {
          int n = std::min(per_tick, total - written_.load());
          writer_.write(n);
          written_ += n;
          since_rotation += n;
          if (rotate_every > 0 && since_rotation >= rotate_every) {
            writer_.rename_rotate(100);
            writer_.reopen();
            since_rotation = 0;
          }
          std::this_thread::sleep_for(tick);
        }
      }) {}

PacedWriter::~PacedWriter() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

const std::vector<std::string>& PacedWriter::finish() {
  if (thread_.joinable()) {
    thread_.join();
  }
  return writer_.ids();
}

int64_t checkpointed_offset(const std::string& checkpoint_file) {
  std::istringstream lines(read_text_file(checkpoint_file));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("file:logs:", 0) == 0) {  // "<source id> <offset> <token>"
      size_t space = line.find(' ');
      return std::stoll(line.substr(space + 1));
    }
  }
  return -1;
}

void require_exactly_once(const Deployment& d, const std::vector<std::string>& expected,
                          std::chrono::seconds deadline, std::optional<size_t> only) {
  auto count = [&] {
    std::map<std::string, int> counts;
    for (const std::string& id : received_ids(only ? d.received_by(*only) : d.received())) {
      ++counts[id];
    }
    return counts;
  };
  bool all = wait_for(
      [&] {
        std::map<std::string, int> counts = count();
        for (const std::string& id : expected) {
          if (counts.count(id) == 0) {
            return false;
          }
        }
        return true;
      },
      deadline, std::chrono::milliseconds(250));
  if (all) {
    std::this_thread::sleep_for(std::chrono::seconds(1));  // let a duplicate show up
  }
  std::map<std::string, int> counts = count();
  std::map<std::string, int> wanted;
  for (const std::string& id : expected) {
    ++wanted[id];
  }
  std::ostringstream problems;
  size_t missing = 0;
  size_t duplicated = 0;
  size_t unexpected = 0;
  for (const auto& [id, n] : wanted) {
    int got = counts.count(id) != 0 ? counts[id] : 0;
    if (got < n) {
      if (++missing <= 10) {
        problems << " missing " << id;
      }
    } else if (got > n) {
      if (++duplicated <= 10) {
        problems << " duplicated " << id << " x" << got;
      }
    }
  }
  for (const auto& [id, n] : counts) {
    if (wanted.count(id) == 0 && ++unexpected <= 10) {
      problems << " unexpected " << id;
    }
  }
  std::printf("  ids expected %zu, received %zu distinct; missing %zu, duplicated %zu\n",
              wanted.size(), counts.size(), missing, duplicated);
  INFO("ids expected " << wanted.size() << ", missing " << missing << ", duplicated " << duplicated
                       << ", unexpected " << unexpected << ":" << problems.str()
                       << "\nagent log (end):\n"
                       << tail_of(d.agent_log(), 12000));
  REQUIRE(missing == 0);
  REQUIRE(duplicated == 0);
  REQUIRE(unexpected == 0);
}

}  // namespace assas::test
