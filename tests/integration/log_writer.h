#pragma once

// What the file-collector scenarios write and check: numbered lines ("<tag>#<n> <text>") appended
// to a log file the way a program does (O_APPEND, one write per line, at a steady pace), and
// rotated the way logrotate does (rename + create, or copytruncate). At the receiver every id must
// arrive exactly once.

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/deployment.h"

namespace assas::test {

class LogWriter {
 public:
  // Opens (creates) path for appending; ids are "<tag>#0", "<tag>#1", ...
  LogWriter(std::string path, std::string tag);
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // n numbered lines, in bursts of 100 with a millisecond between them (a busy program).
  void write(int n);
  // Bytes as they are (no id, no newline added).
  void write_raw(const std::string& bytes);
  // n numbered lines of random hex that compress poorly (to fill a disk buffer), in one write;
  // line(n) does not describe them.
  void write_incompressible(int n);
  // logrotate's default: path.(k) → path.(k+1) down from keep-1 (path.keep is dropped), then
  // path → path.1. The writer still holds the renamed file, as a program does until reopen().
  void rename_rotate(int keep);
  // Opens path again (a new file), as a program does after logrotate's postrotate signal.
  void reopen();
  // logrotate's copytruncate: shifts path.(k) like rename_rotate, copies path to path.1, then
  // truncates path; the writer keeps appending to the same descriptor. Done between two writes, so
  // that logrotate's own window (lines written between the copy and the truncation) stays closed.
  void copytruncate_rotate(int keep);
  // ": > path": truncates in place.
  void truncate();
  // Deletes path; the writer still holds the deleted file until reopen().
  void unlink();

  const std::string& path() const { return path_; }
  const std::vector<std::string>& ids() const { return ids_; }
  std::string line(int n) const;

 private:
  void shift(int keep);
  std::string path_;
  std::string tag_;
  int fd_ = -1;
  std::vector<std::string> ids_;
};

// Writes `total` lines at a steady pace on its own thread (`per_tick` lines every `tick`), rotating
// (rename + create) every `rotate_every` lines if that is not 0; the test does the damage
// meanwhile.
class PacedWriter {
 public:
  PacedWriter(const std::string& path, int total, int rotate_every, int per_tick = 200,
              std::chrono::milliseconds tick = std::chrono::milliseconds(8),
              const std::string& tag = "k");
  ~PacedWriter();
  PacedWriter(const PacedWriter&) = delete;
  PacedWriter& operator=(const PacedWriter&) = delete;

  // How many lines were written so far (any thread).
  int written() const { return written_.load(); }
  // Waits for the last line, then gives every id.
  const std::vector<std::string>& finish();

 private:
  LogWriter writer_;
  std::atomic<int> written_{0};
  std::thread thread_;
};

// The offset a checkpoint file holds for the one file source (collector "logs"), or -1.
int64_t checkpointed_offset(const std::string& checkpoint_file);

// Every id in the messages received ("<tag>#<n>" tokens; a multiline event holds several).
std::vector<std::string> received_ids(const std::vector<ReceivedEvent>& events);

// Waits until every expected id arrived (bounded), gives duplicates a second to show up, then
// fails the test with the missing and duplicated ids if any, printing the agent's log. Counts what
// every receiver stored together, or receiver `only` alone.
void require_exactly_once(const Deployment& d, const std::vector<std::string>& expected,
                          std::chrono::seconds deadline = std::chrono::seconds(120),
                          std::optional<size_t> only = std::nullopt);

// The ids of several writers together.
std::vector<std::string> all_ids(std::initializer_list<const LogWriter*> writers);

}  // namespace assas::test
