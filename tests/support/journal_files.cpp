#include "tests/support/journal_files.h"

#include <cstdio>
#include <ctime>
#include <stdexcept>

#include <sys/wait.h>

#include <unistd.h>

namespace assas::test {

namespace {

constexpr const char* kBootId = "0123456789abcdef0123456789abcdef";
// When that boot began. Every file shares the boot id, and sd-journal orders entries of one boot by
// their monotonic time: it must grow with the realtime across files, as journald's does.
constexpr uint64_t kBootRealtimeUsec = 1'600'000'000'000'000ULL;

uint64_t now_usec() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

bool needs_binary_form(const std::string& value) {
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u == '\n' || u < 0x20 || u >= 0x7f) {
      return true;
    }
  }
  return false;
}

void append_field(std::string& out, const std::string& name, const std::string& value) {
  if (!needs_binary_form(value)) {
    out += name + "=" + value + "\n";
    return;
  }
  // NAME\n, the length as a 64-bit little-endian number, the bytes, \n.
  out += name + "\n";
  uint64_t length = value.size();
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>(length >> (8 * i)));
  }
  out += value + "\n";
}

}  // namespace

std::vector<JournalTestEntry> numbered_journal_entries(const std::string& tag, int first, int count,
                                                       uint64_t base_usec) {
  static const char* const kIdentifiers[] = {"sshd", "sudo", "kernel"};
  std::vector<JournalTestEntry> entries;
  entries.reserve(static_cast<size_t>(count));
  uint64_t base = base_usec != 0 ? base_usec : now_usec() - static_cast<uint64_t>(first + count);
  for (int n = first; n < first + count; ++n) {
    std::string id = kIdentifiers[n % 3];
    std::string number = std::to_string(n);
    JournalTestEntry e;
    e.realtime_usec = base + static_cast<uint64_t>(n);
    e.fields = {{"MESSAGE", tag + "#" + number + " event " + number + " from the journal"},
                {"SYSLOG_IDENTIFIER", id},
                {"PRIORITY", std::to_string(n % 8)},
                {"_PID", std::to_string(1000 + n % 97)},
                {"_UID", "0"},
                {"_COMM", id},
                {"_EXE", "/usr/sbin/" + id},
                {"_SYSTEMD_UNIT", id + ".service"},
                {"_HOSTNAME", "gw-07"}};
    entries.push_back(std::move(e));
  }
  return entries;
}

std::string journal_export_text(const std::vector<JournalTestEntry>& entries) {
  std::string out;
  uint64_t base = now_usec();
  uint64_t next = 0;
  for (const JournalTestEntry& e : entries) {
    uint64_t realtime = e.realtime_usec != 0 ? e.realtime_usec : base + next++;
    out += "__REALTIME_TIMESTAMP=" + std::to_string(realtime) + "\n";
    out += "__MONOTONIC_TIMESTAMP=" + std::to_string(realtime - kBootRealtimeUsec) + "\n";
    out += std::string("_BOOT_ID=") + kBootId + "\n";
    for (const auto& [name, value] : e.fields) {
      append_field(out, name, value);
    }
    out += "\n";
  }
  return out;
}

bool journal_remote_available() {
  return ::access(kJournalRemote, X_OK) == 0;
}

void write_journal_file(const std::string& path, const std::vector<JournalTestEntry>& entries) {
  if (path.size() < 8 || path.compare(path.size() - 8, 8, ".journal") != 0) {
    throw std::runtime_error("journal file name must end in .journal: " + path);
  }
  std::string text = journal_export_text(entries);
  std::string command = std::string(kJournalRemote) + " --output='" + path + "' - 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "w");  // NOLINT(cert-env33-c): a fixed test command
  if (pipe == nullptr) {
    throw std::runtime_error("cannot start " + std::string(kJournalRemote));
  }
  size_t written = std::fwrite(text.data(), 1, text.size(), pipe);
  int status = ::pclose(pipe);
  if (written != text.size() || status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("systemd-journal-remote failed to write " + path);
  }
}

}  // namespace assas::test
