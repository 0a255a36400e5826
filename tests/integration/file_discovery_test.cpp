// File collector scenarios about which files are read and from where (issue 4, scenarios 7, 8, 9
// and 15, and the checkpoint clean-up): real assas-agent and assas-ingest processes; every id
// must arrive exactly once, and nothing else.

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "tests/integration/deployment.h"
#include "tests/integration/log_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kPipeline = "pipeline: { batch: { max_events: 512, max_delay: 20ms } }\n";

std::string collector(const std::string& paths, const std::string& extra = "") {
  return "    paths: " + paths +
         "\n"
         "    start_at: beginning\n"
         "    stat_interval: 100ms\n"
         "    rescan_interval: 200ms\n"
         "    rotate_wait: 300ms\n" +
         extra;
}

void run(const std::string& command) {
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);  // NOLINT(concurrency-mt-unsafe)
}

// Descriptors the process holds on files under dir, from /proc/<pid>/fd.
size_t open_files_under(pid_t pid, const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code link_ec;
    fs::path target = fs::read_symlink(entry.path(), link_ec);
    if (!link_ec && target.string().compare(0, dir.size(), dir) == 0) {
      ++n;
    }
  }
  return n;
}

std::string source_id_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return "file:logs:" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

}  // namespace

TEST_CASE("scenario 7: a symlinked log path whose target changes", "[integration][file]") {
  Deployment d;
  std::string data = d.root() + "/data";
  fs::create_directories(data);
  LogWriter one(data + "/app-1.log", "sa");
  one.write(500);
  fs::create_symlink(data + "/app-1.log", d.logs_dir() + "/current.log");
  d.set_collector(collector("[\"" + d.logs_dir() + "/*.log\"]"));
  d.start_ingest();
  d.start_agent(kPipeline);
  REQUIRE(d.wait_for_events(500, 60s));
  LogWriter two(data + "/app-2.log", "sb");
  two.write(300);
  // Switched atomically, as deployment tools do: a new link renamed over the old one.
  fs::create_symlink(data + "/app-2.log", d.logs_dir() + "/current.log.new");
  fs::rename(d.logs_dir() + "/current.log.new", d.logs_dir() + "/current.log");
  one.write(200);  // the old target is still written for a moment
  two.write(500);
  require_exactly_once(d, all_ids({&one, &two}));
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("scenario 7: a glob matches new files in new directories", "[integration][file]") {
  Deployment d;
  fs::create_directories(d.logs_dir() + "/a");
  LogWriter a(d.logs_dir() + "/a/svc.log", "ga");
  a.write(300);
  d.set_collector(collector("[\"" + d.logs_dir() + "/*/svc.log\"]"));
  d.start_ingest();
  d.start_agent(kPipeline);
  REQUIRE(d.wait_for_events(300, 60s));
  fs::create_directories(d.logs_dir() + "/b");
  LogWriter b(d.logs_dir() + "/b/svc.log", "gb");
  b.write(300);
  fs::create_directories(d.logs_dir() + "/c/deeper");
  LogWriter c(d.logs_dir() + "/c/svc.log", "gc");
  LogWriter not_matched(d.logs_dir() + "/c/deeper/svc.log", "gx");  // one level too deep
  c.write(300);
  not_matched.write(10);
  a.write(100);
  require_exactly_once(d, all_ids({&a, &b, &c}));
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("scenario 8: 5000 files with at most max_open_files descriptors open",
          "[integration][file][many]") {
  constexpr int kFiles = 5000;
  constexpr size_t kMaxOpen = 64;
  Deployment d;
  std::vector<std::string> ids;
  for (int k = 0; k < kFiles; ++k) {
    std::string text;
    for (int j = 0; j < 2; ++j) {
      int id = k * 10 + j;
      text += "m#" + std::to_string(id) + " sensor " + std::to_string(k) + " reading ok\n";
      ids.push_back("m#" + std::to_string(id));
    }
    write_text_file(d.logs_dir() + "/sensor-" + std::to_string(k) + ".log", text);
  }
  d.set_collector(collector("[\"" + d.logs_dir() + "/*.log\"]",
                            "    max_open_files: " + std::to_string(kMaxOpen) +
                                "\n"
                                "    close_inactive: 1s\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  std::atomic<bool> sampling{true};
  std::atomic<size_t> most_open{0};
  std::thread sampler([&] {
    while (sampling) {
      size_t n = open_files_under(d.agent().pid(), d.logs_dir());
      if (n > most_open) {
        most_open = n;
      }
      std::this_thread::sleep_for(5ms);
    }
  });
  auto begin = std::chrono::steady_clock::now();
  bool first_pass = d.wait_for_events(static_cast<size_t>(kFiles) * 2, 180s);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  // Then every file grows by one line: each is reopened at its position.
  for (int k = 0; k < kFiles; ++k) {
    int id = k * 10 + 2;
    append_text_file(d.logs_dir() + "/sensor-" + std::to_string(k) + ".log",
                     "m#" + std::to_string(id) + " sensor " + std::to_string(k) + " later\n");
    ids.push_back("m#" + std::to_string(id));
  }
  require_exactly_once(d, ids, 300s);
  sampling = false;
  sampler.join();
  uintmax_t checkpoint_bytes = fs::file_size(d.agent_data_dir() + "/checkpoints");
  std::printf(
      "  %d files: first pass in %.1f s, most descriptors open on them at once: %zu "
      "(max_open_files %zu); checkpoint file %ju bytes\n",
      kFiles, seconds, most_open.load(), kMaxOpen, checkpoint_bytes);
  REQUIRE(first_pass);
  // The scan may hold one more for a moment, to fingerprint a file it does not open.
  REQUIRE(most_open.load() <= kMaxOpen + 1);
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("scenario 9: exclude patterns and compressed files are never read as text",
          "[integration][file]") {
  Deployment d;
  std::string logs = d.logs_dir();
  LogWriter app(logs + "/app.log", "x");
  app.write(200);
  LogWriter debug(logs + "/app.debug", "xd");
  debug.write(50);
  LogWriter secret(logs + "/secret-tokens.log", "xs");
  secret.write(50);
  {
    LogWriter rotated(logs + "/old.log", "xo");
    rotated.write(100);
  }
  run("cp '" + logs + "/old.log' '" + logs + "/old.log.2' && gzip '" + logs + "/old.log.2'");
  run("zstd -q '" + logs + "/old.log' -o '" + logs + "/old.log.3.zst'");
  // gzip bytes under a plain name: told apart by their magic number.
  run("gzip -c '" + logs + "/old.log' > '" + logs + "/disguised.log'");
  run("rm '" + logs + "/old.log'");
  d.set_collector(collector("[\"" + logs + "/*\"]", "    exclude: [\"*.debug\", \"secret-*\"]\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  app.write(100);
  require_exactly_once(d, app.ids());
  REQUIRE(d.agent().terminate(20s) == 0);
  std::string log = d.agent_log();
  INFO(log);
  REQUIRE(log.find("compressed_skipped=3") != std::string::npos);
}

TEST_CASE("scenario 15: start_at end reads only what is written after the first start",
          "[integration][file][start]") {
  Deployment d;
  LogWriter w(d.logs_dir() + "/app.log", "e");
  w.write(100);  // before the agent's first start: not read
  d.set_collector("    paths: [\"" + d.logs_dir() +
                  "/*.log\"]\n"
                  "    start_at: end\n"
                  "    stat_interval: 100ms\n"
                  "    rescan_interval: 200ms\n");
  d.start_ingest();
  d.start_agent(kPipeline);
  REQUIRE(wait_for([&] { return d.agent_log().find("following file") != std::string::npos; }, 30s));
  w.write(50);
  std::vector<std::string> expected(w.ids().begin() + 100, w.ids().end());
  LogWriter later(d.logs_dir() + "/later.log", "el");  // appears later: read from its start
  later.write(20);
  expected.insert(expected.end(), later.ids().begin(), later.ids().end());
  require_exactly_once(d, expected);
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("scenario 15: start_at beginning reads what the file already holds",
          "[integration][file][start]") {
  Deployment d;
  LogWriter w(d.logs_dir() + "/app.log", "b");
  w.write(100);
  d.set_collector(collector("[\"" + d.logs_dir() + "/*.log\"]"));
  d.start_ingest();
  d.start_agent(kPipeline);
  w.write(50);
  require_exactly_once(d, w.ids());
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("scenario 15: a checkpoint past the end of a file truncated meanwhile resumes from 0",
          "[integration][file][start][restart]") {
  Deployment d;
  std::string path = d.logs_dir() + "/app.log";
  d.set_collector(collector("[\"" + d.logs_dir() + "/*.log\"]"));
  d.start_ingest();
  std::vector<std::string> expected;
  std::string head;
  {
    LogWriter w(path, "k");
    w.write(1000);
    d.start_agent(kPipeline);
    require_exactly_once(d, w.ids());
    expected = w.ids();
    std::string all = read_text_file(path);
    size_t cut = 0;
    for (int i = 0; i < 100; ++i) {
      cut = all.find('\n', cut) + 1;
    }
    head = all.substr(0, cut);  // its first 100 lines
  }
  REQUIRE(d.agent().terminate(20s) == 0);
  // Rewritten shorter than the checkpoint, starting with the same bytes: read again from 0.
  write_text_file(path, head + "k#5000 written after the truncation\n");
  std::vector<std::string> again(expected.begin(), expected.begin() + 100);  // in the file again
  expected.insert(expected.end(), again.begin(), again.end());
  expected.push_back("k#5000");
  d.start_agent(kPipeline);
  require_exactly_once(d, expected);
  REQUIRE(d.agent().terminate(20s) == 0);
  std::string log = d.agent_log();
  INFO(log);
  REQUIRE(log.find("file is shorter than its checkpoint") != std::string::npos);
  REQUIRE(log.find("truncations=1") != std::string::npos);
}

TEST_CASE("checkpoints of files gone past forget_after are dropped from the checkpoint file",
          "[integration][file][checkpoints]") {
  Deployment d;
  d.set_collector(collector("[\"" + d.logs_dir() + "/*.log\"]", "    forget_after: 1s\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  LogWriter keep(d.logs_dir() + "/keep.log", "fk");
  LogWriter gone(d.logs_dir() + "/gone.log", "fg");
  keep.write(10);
  gone.write(10);
  require_exactly_once(d, all_ids({&keep, &gone}));
  std::string checkpoints = d.agent_data_dir() + "/checkpoints";
  std::string gone_id = source_id_of(gone.path());
  std::string keep_id = source_id_of(keep.path());
  REQUIRE(wait_for([&] { return read_text_file(checkpoints).find(gone_id) != std::string::npos; },
                   30s));
  gone.unlink();
  bool dropped =
      wait_for([&] { return read_text_file(checkpoints).find(gone_id) == std::string::npos; }, 30s);
  INFO(read_text_file(checkpoints) << "\n" << d.agent_log());
  REQUIRE(dropped);
  REQUIRE(read_text_file(checkpoints).find(keep_id) != std::string::npos);
  REQUIRE(d.agent().terminate(20s) == 0);
}

}  // namespace assas::test
