// File collector scenarios under rotation (issue 4, scenarios 1-6 and 14): real assas-agent and
// assas-ingest processes, lines with unique ids written the way programs write them and rotated the
// way logrotate rotates them; at the receiver every id must arrive exactly once.

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "tests/integration/deployment.h"
#include "tests/integration/log_writer.h"
#include "tests/support/temp_dir.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;

// Small batches: many are in flight when a kill lands.
const std::string kPipeline = "pipeline: { batch: { max_events: 256, max_delay: 20ms } }\n";

std::string collector(const Deployment& d, const std::string& extra = "") {
  return "    paths: [\"" + d.logs_dir() +
         "/*.log\"]\n"
         "    start_at: beginning\n"
         "    stat_interval: 100ms\n"
         "    rescan_interval: 500ms\n"
         "    rotate_wait: 300ms\n" +
         extra;
}

enum class Interrupt { kNone, kSigterm, kKill9 };

const char* name_of(Interrupt how) {
  switch (how) {
    case Interrupt::kNone:
      return "no restart";
    case Interrupt::kSigterm:
      return "SIGTERM mid-way";
    case Interrupt::kKill9:
      return "kill -9 mid-way";
  }
  return "";
}

void stop_agent(Deployment& d, Interrupt how) {
  if (how == Interrupt::kSigterm) {
    REQUIRE(d.agent().terminate(20s) == 0);
  } else if (how == Interrupt::kKill9) {
    d.agent().kill9();
  }
}

void start(Deployment& d, const std::string& extra = "") {
  d.set_collector(collector(d, extra));
  d.start_ingest();
  d.start_agent(kPipeline);
}

// SIGSTOP / SIGCONT to the running agent (never to a pid it does not hold).
void freeze(Deployment& d, bool frozen) {
  REQUIRE(d.agent().pid() > 0);
  REQUIRE(::kill(d.agent().pid(), frozen ? SIGSTOP : SIGCONT) == 0);
}

enum class Rotation { kRename, kCopytruncate };

// Scenarios 1 and 2 (and 14): six rotations while writing. rename: logrotate's default, the
// program keeps writing into the rotated file until it reopens. copytruncate: the copy is found by
// the fingerprint of the original's first bytes. Once, the agent is frozen (SIGSTOP, as on an
// overloaded gateway) across a rotation, so that it lands before the agent read the last lines.
// With a restart, rotations happen while the agent is down: two renames, or one copytruncate (for
// more, see "three copytruncate rotations while the agent is down"). Under load a kill -9 can land
// before anything of the generation after the previous copytruncate was durable: the checkpoint
// then lags one rotation behind, and the copy of that generation is found by its time (until that
// search was added, its 3,300 lines were lost about one run in three).
void rotation(Rotation kind, Interrupt how) {
  INFO(name_of(how));
  Deployment d;
  start(d);
  LogWriter w(d.logs_dir() + "/app.log", kind == Rotation::kRename ? "a" : "c");
  int restart_round = kind == Rotation::kRename ? 3 : 2;
  for (int round = 0; round < 6; ++round) {
    w.write(3000);
    if (round == 2) {
      stop_agent(d, how);
    }
    if (round == 4) {
      freeze(d, true);
      w.write(500);
    }
    if (kind == Rotation::kRename) {
      w.rename_rotate(10);
      w.write(200);
      w.reopen();
    } else {
      w.copytruncate_rotate(10);
    }
    if (round == 4) {
      freeze(d, false);
    }
    w.write(300);
    if (round == restart_round && how != Interrupt::kNone) {
      d.start_agent(kPipeline);
    }
  }
  w.write(1000);
  require_exactly_once(d, w.ids());
  REQUIRE(d.agent().terminate(20s) == 0);
}

// Scenario 5 (and 14): 20 rotations in 2 seconds under continuous writes.
void fast_rotation(Interrupt how) {
  INFO(name_of(how));
  Deployment d;
  start(d);
  LogWriter w(d.logs_dir() + "/app.log", "r");
  auto begin = std::chrono::steady_clock::now();
  for (int r = 0; r < 20; ++r) {
    w.write(400);
    if (r == 8) {
      stop_agent(d, how);
    }
    std::this_thread::sleep_until(begin + (r + 1) * 100ms);
    w.rename_rotate(30);
    w.reopen();
    if (r == 12 && how != Interrupt::kNone) {
      d.start_agent(kPipeline);  // four rotations happened while it was down
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  std::printf("  20 rotations in %.2f s, %zu lines\n", seconds, w.ids().size());
  w.write(500);
  require_exactly_once(d, w.ids());
  REQUIRE(d.agent().terminate(20s) == 0);
}

}  // namespace

TEST_CASE("scenario 1: rename + create rotation while writing", "[integration][file][rotation]") {
  rotation(Rotation::kRename, Interrupt::kNone);
}
TEST_CASE("scenario 1+14: rename rotation with the agent stopped by SIGTERM mid-way",
          "[integration][file][rotation][restart]") {
  rotation(Rotation::kRename, Interrupt::kSigterm);
}
TEST_CASE("scenario 1+14: rename rotation with the agent killed by kill -9 mid-way",
          "[integration][file][rotation][restart]") {
  rotation(Rotation::kRename, Interrupt::kKill9);
}

TEST_CASE("scenario 2: copytruncate rotation while writing", "[integration][file][rotation]") {
  rotation(Rotation::kCopytruncate, Interrupt::kNone);
}
TEST_CASE("scenario 2+14: copytruncate with the agent stopped by SIGTERM mid-way",
          "[integration][file][rotation][restart]") {
  rotation(Rotation::kCopytruncate, Interrupt::kSigterm);
}
TEST_CASE("scenario 2+14: copytruncate with the agent killed by kill -9 mid-way",
          "[integration][file][rotation][restart]") {
  rotation(Rotation::kCopytruncate, Interrupt::kKill9);
}

// The agent's checkpoint lags behind the file by more than one copytruncate rotation: stopped (or
// killed before anything of the next generation was durable) across several of them. The copy of
// the checkpointed generation is read from the checkpoint, the later copies from their start.
TEST_CASE("scenario 2+14: three copytruncate rotations while the agent is down",
          "[integration][file][rotation][restart]") {
  Deployment d;
  start(d);
  LogWriter w(d.logs_dir() + "/app.log", "m");
  w.write(2000);
  REQUIRE(d.wait_for_events(2000, 60s));
  REQUIRE(d.agent().terminate(20s) == 0);  // checkpointed: the end of the first generation
  for (int r = 0; r < 3; ++r) {
    std::this_thread::sleep_for(20ms);  // the copies' modification times tell their order
    w.copytruncate_rotate(10);
    w.write(1000);
  }
  d.start_agent(kPipeline);
  w.write(500);
  require_exactly_once(d, w.ids());
  REQUIRE(d.agent().terminate(20s) == 0);
}

// The field failure of "copytruncate with the agent killed by kill -9 mid-way", made certain: the
// disk buffer cannot fsync (tools/fail_io_shim.c), so nothing read after the first 2000 lines is
// durable and the checkpoint stays in the first generation while the agent goes on through a
// copytruncate; kill -9, a second copytruncate, restart. The second generation was never durable:
// it must be read again from its copy, found by time (its first bytes are not the checkpoint's).
TEST_CASE("scenario 2+14: kill -9 while the checkpoint lags behind a copytruncate",
          "[integration][file][rotation][restart]") {
  Deployment d;
  d.set_collector(collector(d));
  d.start_ingest();
  const std::string flag = d.root() + "/fail-io";
  std::map<std::string, std::string> env{{"LD_PRELOAD", ASSAS_FAIL_IO_SHIM},
                                         {"ASSAS_FAIL_IO_FLAG", flag}};
#ifdef ASSAS_SANITIZED
  // ASan insists on being the first library loaded; a preloaded one comes before it.
  const char* asan = std::getenv("ASAN_OPTIONS");  // NOLINT(concurrency-mt-unsafe)
  std::string options = asan != nullptr ? asan : "";
  env["ASAN_OPTIONS"] = options + (options.empty() ? "" : ":") + "verify_asan_link_order=0";
#endif
  d.start_agent(kPipeline, env);
  LogWriter w(d.logs_dir() + "/app.log", "l");
  w.write(2000);
  REQUIRE(d.wait_for_events(2000, 60s));
  write_text_file(flag, "fsync " + d.agent_data_dir() + "/buffer/\n");
  w.write(1000);
  std::this_thread::sleep_for(300ms);
  w.copytruncate_rotate(10);
  w.write(1000);
  std::this_thread::sleep_for(500ms);
  d.agent().kill9();
  REQUIRE(::unlink(flag.c_str()) == 0);
  std::this_thread::sleep_for(20ms);  // the copies' modification times tell their order
  w.copytruncate_rotate(10);
  w.write(300);
  d.start_agent(kPipeline);
  w.write(500);
  require_exactly_once(d, w.ids());
  REQUIRE(d.agent().terminate(20s) == 0);
}

// The same while the agent runs: frozen (SIGSTOP) across two copytruncate rotations, it sees one
// truncation, and finds the older copy by its fingerprint and the newer one by its time.
TEST_CASE("scenario 2: two copytruncate rotations while the agent is frozen",
          "[integration][file][rotation]") {
  Deployment d;
  start(d);
  LogWriter w(d.logs_dir() + "/app.log", "f");
  w.write(2000);
  REQUIRE(d.wait_for_events(2000, 60s));
  freeze(d, true);
  for (int r = 0; r < 2; ++r) {
    std::this_thread::sleep_for(20ms);
    w.copytruncate_rotate(10);
    w.write(1000);
  }
  freeze(d, false);
  w.write(500);
  require_exactly_once(d, w.ids());
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("scenario 3: truncate in place and a file that shrinks then grows past its old size",
          "[integration][file][rotation]") {
  Deployment d;
  start(d);
  LogWriter w(d.logs_dir() + "/app.log", "t");
  w.write(2000);
  REQUIRE(d.wait_for_events(2000, 60s));
  w.truncate();  // ": > app.log"
  w.write(300);
  REQUIRE(d.wait_for_events(2300, 60s));
  w.truncate();
  w.write(5000);  // at once far past the old size: only the changed first bytes tell
  require_exactly_once(d, w.ids());
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("scenario 4: a file deleted while open is read to its end and a new file takes its name",
          "[integration][file][rotation]") {
  Deployment d;
  start(d);
  LogWriter w(d.logs_dir() + "/app.log", "d");
  w.write(1000);
  REQUIRE(d.wait_for_events(1000, 60s));  // followed (open) before it is deleted
  w.unlink();
  w.write(500);  // into the deleted file, still open in the program and in the agent
  w.reopen();    // a new file with the same name
  w.write(1000);
  require_exactly_once(d, w.ids());
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("scenario 4: a reused inode is not mistaken for the checkpointed file",
          "[integration][file][rotation][restart]") {
  Deployment d;
  start(d);
  std::string path = d.logs_dir() + "/app.log";
  uint64_t old_inode = 0;
  {
    LogWriter old(path, "o");
    old.write(500);
    require_exactly_once(d, old.ids());
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    old_inode = st.st_ino;
  }
  REQUIRE(d.agent().terminate(20s) == 0);  // its checkpoint: this inode, at the end of 500 lines
  REQUIRE(::unlink(path.c_str()) == 0);
  // The filesystem hands the freed inode to one of the next files created nearby: create probes
  // (names outside the glob) until one has it, and move that one to the old name.
  bool reused = false;
  std::vector<std::string> probes;
  for (int attempt = 0; attempt < 200 && !reused; ++attempt) {
    std::string probe = d.logs_dir() + "/.probe-" + std::to_string(attempt);
    write_text_file(probe, "");
    struct stat st {};
    REQUIRE(::stat(probe.c_str(), &st) == 0);
    if (st.st_ino == old_inode) {
      REQUIRE(::rename(probe.c_str(), path.c_str()) == 0);
      reused = true;
    } else {
      probes.push_back(probe);
    }
  }
  for (const std::string& probe : probes) {
    ::unlink(probe.c_str());
  }
  if (!reused) {
    WARN("this filesystem did not reuse the inode; the check below is then an ordinary restart");
  }
  LogWriter fresh(path, "n");  // appends to the file that holds the old inode
  fresh.write(2000);           // longer than the old file: resuming at its offset would lose lines
  d.start_agent(kPipeline);
  std::vector<std::string> expected = fresh.ids();
  // Old lines were delivered before; the new file is read from its start.
  std::vector<std::string> old_ids;
  for (int i = 0; i < 500; ++i) {
    expected.push_back("o#" + std::to_string(i));
  }
  require_exactly_once(d, expected);
  std::printf("  inode reused: %s\n", reused ? "yes" : "no");
  REQUIRE(d.agent().terminate(20s) == 0);
  if (reused) {
    REQUIRE(d.agent_log().find("inode reused") != std::string::npos);
  }
}

TEST_CASE("scenario 5: 20 rotations in 2 seconds under continuous writes",
          "[integration][file][rotation]") {
  fast_rotation(Interrupt::kNone);
}
TEST_CASE("scenario 5+14: fast rotation with the agent stopped by SIGTERM mid-way",
          "[integration][file][rotation][restart]") {
  fast_rotation(Interrupt::kSigterm);
}
TEST_CASE("scenario 5+14: fast rotation with the agent killed by kill -9 mid-way",
          "[integration][file][rotation][restart]") {
  fast_rotation(Interrupt::kKill9);
}

TEST_CASE("scenario 6: rotation while the receiver is down with rotated files deleted meanwhile",
          "[integration][file][rotation]") {
  Deployment d;
  start(d);
  LogWriter w(d.logs_dir() + "/app.log", "o");
  w.write(1000);
  REQUIRE(d.wait_for_events(1000, 60s));
  REQUIRE(d.ingest().terminate(20s) == 0);
  for (int r = 0; r < 5; ++r) {
    w.write(2000);
    std::this_thread::sleep_for(300ms);
    w.rename_rotate(1);  // keep one: the previous rotated file is deleted
    w.write(100);
    w.reopen();
  }
  w.write(1000);
  std::this_thread::sleep_for(1s);
  d.start_ingest();  // same port: the agent reconnects by itself
  require_exactly_once(d, w.ids());
  REQUIRE(d.agent().terminate(20s) == 0);
}

}  // namespace assas::test
