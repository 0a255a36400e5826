// The journal collector end to end: real journal files (made with systemd-journal-remote, no
// journald), the real assas-agent with its journal reader child, and assas-ingest. Counts are
// exact: every id "<tag>#<n>" must arrive once, and only the ids that should.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <sys/types.h>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "tests/integration/deployment.h"
#include "tests/integration/log_writer.h"
#include "tests/support/journal_files.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;

const std::string kPipeline = "pipeline: { batch: { max_events: 512, max_delay: 20ms } }\n";

std::string journal_dir(const Deployment& d) {
  return d.root() + "/journal";
}

// A journal collector named "j" on the test's journal directory; extra keys at four spaces.
void use_journal(Deployment& d, const std::string& extra = "    start_at: beginning\n") {
  std::filesystem::create_directories(journal_dir(d));
  d.set_collectors("  - type: journal\n    name: j\n    directory: " + journal_dir(d) + "\n" +
                   extra);
}

std::vector<std::string> ids_of(const std::string& tag, int first, int count) {
  std::vector<std::string> ids;
  for (int n = first; n < first + count; ++n) {
    ids.push_back(tag + "#" + std::to_string(n));
  }
  return ids;
}

// The PIDs of the journal readers the agent started, in order, from its log.
std::vector<pid_t> reader_pids(const Deployment& d) {
  std::vector<pid_t> pids;
  std::string log = d.agent_log();
  const std::string started = "journal reader started";
  for (size_t at = log.find(started); at != std::string::npos; at = log.find(started, at + 1)) {
    size_t pid = log.find(" pid=", at);
    if (pid != std::string::npos && pid < log.find('\n', at)) {
      pids.push_back(static_cast<pid_t>(std::stol(log.substr(pid + 5))));
    }
  }
  return pids;
}

bool process_exists(pid_t pid) {
  return std::filesystem::exists("/proc/" + std::to_string(pid));
}

// Whether pid is blocked writing to the agent: libuv's stdio "pipe" is a Unix socket pair, whose
// full buffer shows as sock_alloc_send_pskb (a real pipe would show pipe_write).
bool blocked_on_pipe(pid_t pid) {
  std::string wchan = read_text_file("/proc/" + std::to_string(pid) + "/wchan");
  return wchan.find("sock_alloc_send") != std::string::npos ||
         wchan.find("pipe_write") != std::string::npos;
}

const ReceivedEvent* find_id(const std::vector<ReceivedEvent>& events, const std::string& id) {
  for (const ReceivedEvent& e : events) {
    if (e.message.compare(0, id.size() + 1, id + " ") == 0) {
      return &e;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("journal entries arrive once each with their fields and origin_time",
          "[integration][journal]") {
  REQUIRE(journal_remote_available());
  Deployment d;
  use_journal(d);
  constexpr uint64_t kBase = 1'796'074'759'000'000ULL;  // 2026-11-30T21:39:19Z
  write_journal_file(journal_dir(d) + "/system.journal",
                     numbered_journal_entries("J", 0, 300, kBase));
  d.start_ingest();
  d.start_agent(kPipeline);
  require_exactly_once(d, ids_of("J", 0, 300), 60s);
  std::vector<ReceivedEvent> events = d.received();
  REQUIRE(events.size() == 300);
  const ReceivedEvent* e = find_id(events, "J#100");
  REQUIRE(e != nullptr);
  REQUIRE(e->message == "J#100 event 100 from the journal");
  REQUIRE(e->offset == 101);  // the entry's seqnum: the file numbers from 1
  REQUIRE(e->source == journal_dir(d));
  std::map<std::string, std::string> want = {{"PRIORITY", "4"},
                                             {"SYSLOG_IDENTIFIER", "sudo"},
                                             {"_PID", "1003"},
                                             {"_UID", "0"},
                                             {"_COMM", "sudo"},
                                             {"_EXE", "/usr/sbin/sudo"},
                                             {"_SYSTEMD_UNIT", "sudo.service"},
                                             {"_HOSTNAME", "gw-07"},
                                             {"_BOOT_ID", "0123456789abcdef0123456789abcdef"},
                                             {"origin_time", "2026-11-30T21:39:19.000100Z"}};
  for (const auto& [name, value] : want) {
    INFO(name);
    REQUIRE(e->fields.count(name) == 1);
    REQUIRE(e->fields.at(name) == value);
  }
  std::vector<pid_t> readers = reader_pids(d);
  REQUIRE(readers.size() == 1);
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE_FALSE(process_exists(readers[0]));  // stopped with the agent, and reaped by it
  REQUIRE(d.metric("assas_journal_entries_total{collector=\"j\"}") == 300);
  REQUIRE(d.metric("assas_journal_reader_restarts_total{collector=\"j\"}") == 0);
}

TEST_CASE("journal matches and units select exactly the matching entries",
          "[integration][journal]") {
  Deployment d;
  use_journal(d,
              "    start_at: beginning\n"
              "    matches: [\"PRIORITY=0..2\"]\n"
              "    units: [sshd]\n");
  write_journal_file(journal_dir(d) + "/system.journal", numbered_journal_entries("M", 0, 480));
  std::vector<std::string> expected;
  for (int n = 0; n < 480; ++n) {
    if (n % 8 <= 2 && n % 3 == 0) {  // PRIORITY 0..2 and unit sshd.service
      expected.push_back("M#" + std::to_string(n));
    }
  }
  REQUIRE(expected.size() == 60);
  d.start_ingest();
  d.start_agent(kPipeline);
  require_exactly_once(d, expected, 60s);
  REQUIRE(d.received().size() == expected.size());  // and nothing else
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("a binary journal MESSAGE arrives byte-exact and an entry without one is empty",
          "[integration][journal]") {
  Deployment d;
  use_journal(d);
  std::vector<std::string> messages = {
      std::string("B#1 NUL \0 and invalid UTF-8 \xff\xfe \xc0\x80 end", 37),
      "B#2 two\nlines and a tab \t and ANSI \x1b[31mred\x1b[0m",
      "B#3 Arabic \xd8\xa7\xd9\x84\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85 Windows-1256 "
      "\xe6\xd2\xc7\xd1\xc9",
  };
  std::vector<JournalTestEntry> entries;
  for (const std::string& m : messages) {
    entries.push_back(JournalTestEntry{0, {{"MESSAGE", m}, {"_PID", "7"}}});
  }
  entries.push_back(JournalTestEntry{0, {{"_PID", "8"}, {"CODE_FILE", "no_message.c"}}});
  write_journal_file(journal_dir(d) + "/system.journal", entries);
  d.start_ingest();
  d.start_agent(kPipeline);
  REQUIRE(d.wait_for_events(4, 30s));
  REQUIRE_FALSE(d.wait_for_events(5, 1s));
  std::vector<ReceivedEvent> events = d.received();
  std::sort(events.begin(), events.end(),
            [](const auto& a, const auto& b) { return a.offset < b.offset; });
  for (size_t i = 0; i < messages.size(); ++i) {
    REQUIRE(events[i].message == messages[i]);
  }
  REQUIRE(events[3].message.empty());
  REQUIRE(events[3].fields.at("_PID") == "8");
  REQUIRE(events[3].fields.count("CODE_FILE") == 0);  // not in the default field list
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("kill -9 of the agent while it reads the journal then a restart ships every entry once",
          "[integration][journal][faults]") {
  Deployment d;
  use_journal(d);
  constexpr int kEntries = 30000;
  write_journal_file(journal_dir(d) + "/system.journal",
                     numbered_journal_entries("K", 0, kEntries));
  d.start_ingest();
  std::string small_batches = "pipeline: { batch: { max_events: 64, max_delay: 5ms } }\n";
  d.start_agent(small_batches);
  REQUIRE(d.wait_for_events(2000, 60s));
  d.agent().kill9();
  size_t before = d.received().size();
  std::vector<pid_t> first_readers = reader_pids(d);
  REQUIRE(first_readers.size() == 1);
  // PR_SET_PDEATHSIG: the reader goes with the agent, never left behind.
  REQUIRE(wait_for([&] { return !process_exists(first_readers[0]); }, 10s));
  d.start_agent(small_batches);
  require_exactly_once(d, ids_of("K", 0, kEntries), 120s);
  std::printf("  journal kill -9: %zu of %d entries stored before the kill\n", before, kEntries);
  REQUIRE(d.agent().terminate(20s) == 0);
  // The second start resumed after the saved cursor.
  REQUIRE(d.agent_log().find("after_cursor=\"s=") != std::string::npos);
}

TEST_CASE("a journal file added while the collector reads (a rotation) is read too",
          "[integration][journal][rotation]") {
  Deployment d;
  use_journal(d);
  write_journal_file(journal_dir(d) + "/system.journal", numbered_journal_entries("R", 0, 500));
  d.start_ingest();
  d.start_agent(kPipeline);
  REQUIRE(d.wait_for_events(500, 30s));
  write_journal_file(journal_dir(d) + "/system@0001.journal",
                     numbered_journal_entries("R", 500, 500));
  write_journal_file(journal_dir(d) + "/system@0002.journal",
                     numbered_journal_entries("R", 1000, 500));
  require_exactly_once(d, ids_of("R", 0, 1500), 60s);
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE(d.metric("assas_journal_reader_restarts_total{collector=\"j\"}") == 0);
}

TEST_CASE("journal start_at end ships only entries written after the start",
          "[integration][journal]") {
  Deployment d;
  use_journal(d, "    start_at: end\n");
  write_journal_file(journal_dir(d) + "/system.journal", numbered_journal_entries("E", 0, 200));
  d.start_ingest();
  d.start_agent(kPipeline);
  REQUIRE(wait_for([&] { return !reader_pids(d).empty(); }, 10s));
  std::this_thread::sleep_for(500ms);  // the reader has seeked to the tail
  write_journal_file(journal_dir(d) + "/system@0001.journal",
                     numbered_journal_entries("E", 200, 50));
  require_exactly_once(d, ids_of("E", 200, 50), 60s);
  REQUIRE(d.received().size() == 50);
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("a journal directory that appears after the start is read once it is there",
          "[integration][journal]") {
  Deployment d;
  use_journal(d);
  std::filesystem::remove(journal_dir(d));
  d.start_ingest();
  d.start_agent(kPipeline);
  REQUIRE(wait_for([&] { return reader_pids(d).size() >= 3; }, 20s));  // retried with a backoff
  std::filesystem::create_directories(journal_dir(d));
  write_journal_file(journal_dir(d) + "/system.journal", numbered_journal_entries("A", 0, 100));
  require_exactly_once(d, ids_of("A", 0, 100), 60s);
  REQUIRE(d.agent().terminate(20s) == 0);
  std::string log = d.agent_log();
  const std::string error = "the journal reader cannot read the journal";
  REQUIRE(log.find(error) != std::string::npos);
  REQUIRE(log.find(error, log.find(error) + 1) == std::string::npos);  // logged once, not per retry
}

TEST_CASE("journal files truncated and deleted under the reader kill only the reader (SIGBUS)",
          "[integration][journal][faults]") {
  Deployment d;
  use_journal(d);
  // Big entries that compress poorly: a 1 MiB buffer is full long before the journal is read.
  std::mt19937_64 random(7);
  std::vector<JournalTestEntry> big = numbered_journal_entries("S", 0, 20000);
  for (JournalTestEntry& e : big) {
    std::string pad;
    for (int i = 0; i < 25; ++i) {
      char hex[17];
      std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(random()));
      pad += hex;
    }
    e.fields[0].second += " " + pad;
  }
  std::string doomed = journal_dir(d) + "/system@0000.journal";
  write_journal_file(doomed, big);
  d.start_ingest();
  REQUIRE(d.ingest().terminate(10s) == 0);  // the receiver is down: the buffer fills
  std::string pipeline = kPipeline +
                         "buffer: { max_size: 1MiB, segment_size: 64KiB }\n"
                         "metrics: { interval: 200ms }\n";
  d.start_agent(pipeline);
  pid_t agent_pid = d.agent().pid();
  REQUIRE(wait_for(
      [&] {
        return d.agent_log().find("disk buffer is full; reading paused") != std::string::npos;
      },
      60s));
  std::vector<pid_t> readers = reader_pids(d);
  REQUIRE(readers.size() == 1);
  // The reader is in the middle of the file, blocked on the full pipe: its next read of the
  // journal touches pages past the new end.
  REQUIRE(wait_for([&] { return blocked_on_pipe(readers[0]); }, 30s));
  std::filesystem::resize_file(doomed, 64 << 10);
  write_journal_file(journal_dir(d) + "/system@0001.journal",
                     numbered_journal_entries("T", 0, 300));
  d.start_ingest();  // the buffer drains, reading resumes, the reader reads on
  REQUIRE(wait_for([&] { return reader_pids(d).size() >= 2; }, 60s));
  std::filesystem::remove(doomed);  // and the vacuum takes the rest
  write_journal_file(journal_dir(d) + "/system@0002.journal",
                     numbered_journal_entries("U", 0, 300));
  std::vector<std::string> later = ids_of("T", 0, 300);
  std::vector<std::string> last = ids_of("U", 0, 300);
  later.insert(later.end(), last.begin(), last.end());
  // Entries of the truncated file arrive at most once; the later files' entries exactly once.
  std::map<std::string, int> counts;
  REQUIRE(wait_for(
      [&] {
        counts.clear();
        for (const std::string& id : received_ids(d.received())) {
          ++counts[id];
        }
        return std::all_of(later.begin(), later.end(),
                           [&](const std::string& id) { return counts.count(id) != 0; });
      },
      120s, 250ms));
  std::this_thread::sleep_for(1s);
  counts.clear();
  for (const std::string& id : received_ids(d.received())) {
    ++counts[id];
  }
  size_t from_doomed = 0;
  for (const auto& [id, n] : counts) {
    INFO(id);
    REQUIRE(n == 1);
    from_doomed += id[0] == 'S' ? 1 : 0;
  }
  REQUIRE(counts.size() == from_doomed + later.size());
  REQUIRE(d.agent().is_running());
  REQUIRE(d.agent().pid() == agent_pid);
  std::string log = d.agent_log();
  // Under ASan the sanitizer's own SIGBUS handler reports the fault and aborts the reader.
  bool sigbus = log.find("journal reader died") != std::string::npos &&
                (log.find("signal=SIGBUS") != std::string::npos ||
                 log.find("AddressSanitizer: BUS") != std::string::npos);
  std::printf(
      "  journal truncation: reader died of SIGBUS: %s; %zu of 20000 entries of the "
      "truncated file shipped\n",
      sigbus ? "yes" : "no", from_doomed);
  REQUIRE(sigbus);
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE(d.metric("assas_journal_reader_restarts_total{collector=\"j\"}") >= 1);
  REQUIRE(d.metric("assas_journal_gaps_total{collector=\"j\"}") >= 1);
}

}  // namespace assas::test
