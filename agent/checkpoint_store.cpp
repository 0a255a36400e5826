#include "agent/checkpoint_store.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/crc32c.h"
#include "base/file_util.h"
#include "base/log.h"

namespace assas::agent {

namespace {

constexpr std::string_view kFirstLine = "assas-checkpoints 1\n";
constexpr size_t kMaxFileBytes = 64U << 20;

// Source ids and tokens are arbitrary bytes; in the file every byte outside printable ASCII, the
// space and '%' become %XX, and the empty string is "-" (so a lone "-" is written "%2D").
std::string escape(std::string_view in) {
  if (in.empty()) {
    return "-";
  }
  if (in == "-") {
    return "%2D";
  }
  std::string out;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : in) {
    auto b = static_cast<unsigned char>(c);
    if (b > 0x20 && b < 0x7f && b != '%') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    }
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool unescape(std::string_view in, std::string& out) {
  out.clear();
  if (in == "-") {
    return true;
  }
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return false;
    }
    int hi = hex_digit(in[i + 1]);
    int lo = hex_digit(in[i + 2]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return !in.empty();
}

std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t end = line.find(sep, start);
    parts.push_back(line.substr(start, end - start));
    if (end == std::string_view::npos) {
      return parts;
    }
    start = end + 1;
  }
}

std::string crc_line(std::string_view body) {
  char line[32];
  std::snprintf(line, sizeof line, "crc %08x\n", crc32c::value(body));
  return line;
}

// The whole file for these positions; sources sorted, so that equal state gives equal bytes.
std::string serialize(const PositionMap& positions, uint64_t covered_seq) {
  std::string out(kFirstLine);
  out += "covered_seq " + std::to_string(covered_seq) + "\n";
  std::map<std::string_view, const SourcePosition*> sorted;
  for (const auto& [source_id, position] : positions) {
    sorted.emplace(source_id, &position);
  }
  for (const auto& [source_id, position] : sorted) {
    out += escape(source_id) + " " + std::to_string(position->offset) + " " +
           escape(position->token) + "\n";
  }
  out += crc_line(out);
  return out;
}

Status parse(std::string_view text, PositionMap& positions, uint64_t& covered_seq) {
  if (text.substr(0, kFirstLine.size()) != kFirstLine) {
    return corruption("the first line is not \"assas-checkpoints 1\"");
  }
  size_t crc_at = text.rfind("crc ", text.empty() ? 0 : text.size() - 1);
  if (crc_at == std::string_view::npos || (crc_at > 0 && text[crc_at - 1] != '\n') ||
      text.substr(crc_at) != crc_line(text.substr(0, crc_at))) {
    return corruption("the crc line is missing or does not match the contents");
  }
  std::vector<std::string_view> lines = split(text.substr(0, crc_at), '\n');
  lines.pop_back();  // the empty piece after the last newline
  if (lines.size() < 2 || lines[1].substr(0, 12) != "covered_seq " ||
      !parse_decimal_u64(lines[1].substr(12), covered_seq)) {
    return corruption("line 2 is not \"covered_seq <number>\"");
  }
  for (size_t i = 2; i < lines.size(); ++i) {
    std::vector<std::string_view> fields = split(lines[i], ' ');
    std::string source_id;
    SourcePosition position;
    if (fields.size() != 3 || !unescape(fields[0], source_id) ||
        !parse_decimal_u64(fields[1], position.offset) || !unescape(fields[2], position.token)) {
      return corruption("line " + std::to_string(i + 1) + " is not \"<source> <offset> <token>\"");
    }
    if (!positions.emplace(std::move(source_id), std::move(position)).second) {
      return corruption("line " + std::to_string(i + 1) + " repeats a source");
    }
  }
  return Status::ok();
}

}  // namespace

struct CheckpointStore::Impl {
  Impl(std::string p, Worker& w) : path(std::move(p)), worker(w) {}

  void mark_dirty() {
    dirty = true;
    maybe_write();
  }
  void maybe_write();
  void on_written(uint64_t seq, const Status& status);

  std::string path;
  Worker& worker;
  PositionMap positions;
  uint64_t covered_seq = 0;
  uint64_t persisted_seq = 0;
  bool dirty = false;    // positions changed since the last write started
  bool writing = false;  // a write is on the Worker (at most one)
  bool failing = false;  // the last write failed (log once per run of failures)
  bool closing = false;
  bool closed = false;
  std::function<void(uint64_t)> on_persisted;
  std::function<void()> on_closed;
};

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::open(const std::string& path,
                                                               Worker& worker) {
  auto impl = std::make_unique<Impl>(path, worker);
  Result<std::string> text = read_file(path, kMaxFileBytes);
  if (text.is_ok()) {
    Status s = parse(text.value(), impl->positions, impl->covered_seq);
    if (!s.is_ok()) {
      return corruption("checkpoint file '" + path + "' is corrupt (" + s.message() +
                        "); remove it to re-read sources from their configured start");
    }
  } else if (text.status().code() != StatusCode::kNotFound) {
    return text.status().with_context("reading checkpoint file");
  }
  impl->persisted_seq = impl->covered_seq;
  return std::unique_ptr<CheckpointStore>(new CheckpointStore(std::move(impl)));
}

CheckpointStore::CheckpointStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CheckpointStore::~CheckpointStore() {
  ASSAS_CHECK(!impl_->writing, "CheckpointStore destroyed with a write in flight; close() first");
}

const PositionMap& CheckpointStore::positions() const {
  return impl_->positions;
}
uint64_t CheckpointStore::covered_seq() const {
  return impl_->covered_seq;
}
uint64_t CheckpointStore::persisted_seq() const {
  return impl_->persisted_seq;
}

void CheckpointStore::merge_buffer_positions(const RecoveryReport& recovery) {
  bool changed = false;
  // positions_by_seq is in seq order, so a later record's position overwrites an earlier one.
  for (const auto& [seq, positions] : recovery.positions_by_seq) {
    if (seq <= impl_->covered_seq) {
      continue;
    }
    for (const auto& [source_id, position] : positions) {
      impl_->positions[source_id] = position;
    }
    changed = true;
  }
  if (changed) {
    impl_->covered_seq = std::max(impl_->covered_seq, recovery.positions_by_seq.back().first);
    impl_->mark_dirty();
  }
}

void CheckpointStore::update(uint64_t seq, const BatchPositions& positions) {
  for (const auto& [source_id, position] : positions) {
    impl_->positions[source_id] = position;
  }
  impl_->covered_seq = std::max(impl_->covered_seq, seq);
  impl_->mark_dirty();
}

void CheckpointStore::set_on_persisted(std::function<void(uint64_t persisted_seq)> callback) {
  impl_->on_persisted = std::move(callback);
}

void CheckpointStore::retain_if(const std::function<bool(const std::string& source_id)>& keep) {
  size_t before = impl_->positions.size();
  std::erase_if(impl_->positions, [&](const auto& entry) { return !keep(entry.first); });
  if (impl_->positions.size() != before) {
    impl_->mark_dirty();
  }
}

void CheckpointStore::close(std::function<void()> on_closed) {
  if (impl_->closing) {
    return;
  }
  impl_->closing = true;
  impl_->on_closed = std::move(on_closed);
  impl_->maybe_write();
}

// Coalescing: while a write is in flight, updates only mark the state dirty; when it completes,
// one write carries all of them.
void CheckpointStore::Impl::maybe_write() {
  if (writing || closed) {
    return;
  }
  if (!dirty) {
    if (closing) {
      closed = true;
      if (on_closed) {
        auto done = std::move(on_closed);
        done();
      }
    }
    return;
  }
  dirty = false;
  writing = true;
  auto text = std::make_shared<std::string>(serialize(positions, covered_seq));
  auto status = std::make_shared<Status>();
  uint64_t seq = covered_seq;
  worker.post([text, status, file = path] { *status = atomic_write_file(file, *text); },
              [this, status, seq] { on_written(seq, *status); });
}

void CheckpointStore::Impl::on_written(uint64_t seq, const Status& status) {
  writing = false;
  if (status.is_ok()) {
    if (failing) {
      ASSAS_LOG(kInfo, "checkpoint file written again", log::kv("file", path));
    }
    failing = false;
    persisted_seq = std::max(persisted_seq, seq);
    if (on_persisted) {
      on_persisted(persisted_seq);
    }
  } else {
    if (!failing) {
      ASSAS_LOG(kError, "cannot write the checkpoint file; will retry with the next update",
                log::kv("file", path), log::kv("error", status.to_string()));
    }
    failing = true;
    // Retried by the next update, not now: an immediate retry would spin on a full disk. At
    // close there is no next update, so the state is given up on (and logged) then.
    if (!closing) {
      dirty = true;
      return;
    }
  }
  maybe_write();
}

}  // namespace assas::agent
