#include "ingest/agent_store.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/file_util.h"
#include "base/log.h"
#include "transport/protocol/batch_codec.h"
#include "transport/protocol/event_json.h"

namespace assas::ingest {
namespace {

constexpr size_t kMaxStateBytes = 4096;
constexpr const char* kStateMagic = "assas-ingest-state 2";
constexpr uint32_t kMaxFileIndex = 99999999;  // the 8 digits of the file name

// Version 2: "assas-ingest-state 2", "file_index N", "file_size N", then one "stream <id> <upto>"
// line per stream, newest first, then "crc <crc32c of all before, hex>". Version 1 (one stream:
// "stream_id N", "stored_upto N" before file_index) is read too, and rewritten as 2 at the next
// commit.
std::string encode_state(const std::vector<std::pair<uint64_t, uint64_t>>& streams,
                         uint32_t file_index, uint64_t file_size) {
  char line[96];
  std::snprintf(line, sizeof line, "%s\nfile_index %u\nfile_size %" PRIu64 "\n", kStateMagic,
                file_index, file_size);
  std::string out = line;
  for (const auto& [stream, upto] : streams) {
    std::snprintf(line, sizeof line, "stream %" PRIu64 " %" PRIu64 "\n", stream, upto);
    out += line;
  }
  std::snprintf(line, sizeof line, "crc %08x\n", crc32c::value(out));
  return out + line;
}

// Parses a state file body (the crc line already checked and cut off); false if malformed.
bool decode_state(const std::string& body, std::vector<std::pair<uint64_t, uint64_t>>& streams,
                  unsigned& index, unsigned long long& size) {  // NOLINT(google-runtime-int)
  unsigned long long stream = 0;                                // NOLINT(google-runtime-int)
  unsigned long long upto = 0;                                  // NOLINT(google-runtime-int)
  if (std::sscanf(body.c_str(),
                  "assas-ingest-state 1\nstream_id %llu\nstored_upto %llu\nfile_index "
                  "%u\nfile_size %llu\n",
                  &stream, &upto, &index, &size) == 4) {
    streams = {{stream, upto}};
    return true;
  }
  int used = 0;
  if (std::sscanf(body.c_str(), "assas-ingest-state 2\nfile_index %u\nfile_size %llu\n%n", &index,
                  &size, &used) != 2) {
    return false;
  }
  streams.clear();
  for (size_t at = static_cast<size_t>(used); at < body.size();) {
    int n = 0;
    if (streams.size() == AgentStore::kMaxStreams ||
        std::sscanf(body.c_str() + at, "stream %llu %llu\n%n", &stream, &upto, &n) != 2 || n == 0) {
      return false;
    }
    streams.emplace_back(stream, upto);
    at += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

uint64_t AgentStore::State::upto(uint64_t stream_id) const {
  for (const auto& [stream, stored] : streams) {
    if (stream == stream_id) {
      return stored;
    }
  }
  return 0;
}

std::optional<uint64_t> AgentStore::State::set(uint64_t stream_id, uint64_t stored_upto) {
  for (auto it = streams.begin(); it != streams.end(); ++it) {
    if (it->first == stream_id) {
      streams.erase(it);
      break;
    }
  }
  streams.insert(streams.begin(), {stream_id, stored_upto});
  if (streams.size() <= kMaxStreams) {
    return std::nullopt;
  }
  uint64_t evicted = streams.back().first;
  streams.pop_back();
  return evicted;
}

bool is_safe_identity(std::string_view identity) {
  if (identity.empty() || identity.size() > 128 || identity.front() == '.') {
    return false;
  }
  for (char c : identity) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return identity.find("..") == std::string_view::npos;
}

AgentStore::AgentStore(std::string dir, std::string identity, StoreLimits limits)
    : dir_(std::move(dir)), identity_(std::move(identity)), limits_(limits) {}

AgentStore::~AgentStore() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Result<std::unique_ptr<AgentStore>> AgentStore::open(const std::string& data_dir,
                                                     const std::string& identity,
                                                     StoreLimits limits) {
  if (!is_safe_identity(identity)) {
    return permission_denied("agent identity '" + identity +
                             "' cannot be a directory name; certificate names must match "
                             "[A-Za-z0-9_.-]{1,128} and not start with '.'");
  }
  std::unique_ptr<AgentStore> store(new AgentStore(data_dir + "/" + identity, identity, limits));
  ASSAS_RETURN_IF_ERROR(ensure_private_dir(data_dir));
  ASSAS_RETURN_IF_ERROR(ensure_private_dir(store->dir_));
  ASSAS_RETURN_IF_ERROR(store->recover());
  return store;
}

std::string AgentStore::file_path(uint32_t index) const {
  char name[32];
  std::snprintf(name, sizeof name, "/events-%08u.jsonl", index);
  return dir_ + name;
}

Status AgentStore::recover() {
  std::string path = dir_ + "/state";
  Result<std::string> text = read_file(path, kMaxStateBytes);
  if (!text.is_ok() && text.status().code() != StatusCode::kNotFound) {
    return text.status();
  }
  if (!text.is_ok()) {
    // A new agent. The state file is written before the first events file exists, so events
    // files without a state file were not made by us (or the state was deleted): refuse rather
    // than truncate or overwrite what may be acknowledged events.
    Result<bool> any = has_events_files();
    if (!any.is_ok()) {
      return any.status();
    }
    if (*any) {
      return corruption("'" + dir_ + "' holds events files but no state file; restore the state " +
                        "file, or move the events files away to accept this agent again");
    }
    state_ = State{};
    ASSAS_RETURN_IF_ERROR(commit(state_));
    return open_file(state_.file_index, state_.file_size);
  }
  size_t crc_at = text->rfind("crc ");
  unsigned stored_crc = 0;
  std::vector<std::pair<uint64_t, uint64_t>> streams;
  unsigned index = 0;
  unsigned long long size = 0;  // NOLINT(google-runtime-int)
  bool ok = crc_at != std::string::npos &&
            std::sscanf(text->c_str() + crc_at, "crc %8x", &stored_crc) == 1 &&
            stored_crc == crc32c::value(std::string_view(*text).substr(0, crc_at)) &&
            decode_state(text->substr(0, crc_at), streams, index, size) && index >= 1 &&
            index <= kMaxFileIndex;
  if (!ok) {
    return corruption("state file '" + path +
                      "' is damaged; the stored events are intact, but de-duplication state is "
                      "lost: move the file away to accept this agent again (resent batches may "
                      "then be stored twice)");
  }
  state_ = State{std::move(streams), index, size};
  // A file after the committed one was started by a rotation that never committed: all it holds
  // was never acknowledged, and the agent sends it again.
  for (uint32_t later = state_.file_index + 1; later <= kMaxFileIndex; ++later) {
    std::string later_path = file_path(later);
    if (::unlink(later_path.c_str()) != 0) {
      break;
    }
    ASSAS_LOG(kWarn, "removed an events file started but never committed; the agent resends it",
              log::kv("file", later_path));
  }
  return open_file(state_.file_index, state_.file_size);
}

Result<bool> AgentStore::has_events_files() const {
  DIR* dir = ::opendir(dir_.c_str());
  if (dir == nullptr) {
    return posix_status("open directory '" + dir_ + "'", errno);
  }
  bool found = false;
  while (const dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name.size() > 6 && name.substr(0, 7) == "events-") {
      found = true;
      break;
    }
  }
  ::closedir(dir);
  return found;
}

Status AgentStore::open_file(uint32_t index, uint64_t committed_size) {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  std::string path = file_path(index);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) {
    return posix_status("open '" + path + "'", errno);
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    return posix_status("stat '" + path + "'", errno);
  }
  if (static_cast<uint64_t>(st.st_size) > committed_size) {
    ASSAS_LOG(kWarn, "cutting off events written but never acknowledged; the agent resends them",
              log::kv("file", path),
              log::kv("bytes", static_cast<uint64_t>(st.st_size) - committed_size));
    if (::ftruncate(fd_, static_cast<off_t>(committed_size)) != 0) {
      return posix_status("truncate '" + path + "'", errno);
    }
  } else if (static_cast<uint64_t>(st.st_size) < committed_size) {
    return corruption("'" + path + "' is shorter than its committed size; events acknowledged " +
                      "earlier are missing from it");
  }
  state_.file_index = index;
  state_.file_size = committed_size;
  return Status::ok();
}

Status AgentStore::commit(const State& state) {
  return atomic_write_file(dir_ + "/state",
                           encode_state(state.streams, state.file_index, state.file_size));
}

uint64_t AgentStore::stored_upto(uint64_t stream_id) const {
  return state_.upto(stream_id);
}

Result<WriteOutcome> AgentStore::write(uint64_t stream_id, std::vector<ReceivedBatch>& batches) {
  WriteOutcome outcome;
  // Work on copies: the state moves only once the write is durable and committed, so a failure
  // anywhere below leaves the store exactly as the last commit describes it.
  const bool new_stream = std::none_of(state_.streams.begin(), state_.streams.end(),
                                       [&](const auto& s) { return s.first == stream_id; });
  uint64_t new_upto = state_.upto(stream_id);
  const uint64_t old_upto = new_upto;
  json_.clear();
  Status refused;
  for (ReceivedBatch& batch : batches) {
    if (batch.seq <= new_upto) {
      ++outcome.duplicates_dropped;
      continue;
    }
    Status s = format_batch(batch, outcome.events_written);
    if (!s.is_ok()) {
      refused = s.with_context("batch " + std::to_string(batch.seq));
      break;
    }
    new_upto = batch.seq;
  }
  if (new_upto != old_upto) {
    Status s = append_and_commit(stream_id, new_upto);
    if (!s.is_ok()) {
      return s;
    }
    if (new_stream) {
      ASSAS_LOG(kInfo, "agent started a new stream (a new buffer, or a load-balancing lane)",
                log::kv("agent", identity_), log::kv("stream", stream_id),
                log::kv("stored_upto", new_upto));
    }
  }
  outcome.stored_upto = stored_upto(stream_id);
  if (!refused.is_ok()) {
    return refused;
  }
  return outcome;
}

Status AgentStore::format_batch(const ReceivedBatch& batch, uint64_t& events_written) {
  if (batch.event_count > limits_.max_batch_events) {
    return corruption("declares " + std::to_string(batch.event_count) +
                      " events, over the limit of " + std::to_string(limits_.max_batch_events));
  }
  Status s = decompressor_.decompress(batch.codec, batch.payload, batch.raw_size,
                                      limits_.max_batch_bytes, raw_);
  const size_t mark = json_.size();
  uint64_t events = 0;
  if (s.is_ok()) {
    s = transport::decode_batch(
        raw_, batch.event_count,
        [&](const transport::DecodedBatchHeader& header, const transport::DecodedEvent& event) {
          transport::append_event_json(json_, identity_, header.host, event);
          ++events;
        });
  }
  if (s.is_ok() && events != batch.event_count) {
    s = corruption("holds " + std::to_string(events) + " events, not the declared " +
                   std::to_string(batch.event_count));
  }
  if (!s.is_ok()) {
    json_.resize(mark);  // a corrupt batch writes nothing
    return s;
  }
  events_written += events;
  return Status::ok();
}

Status AgentStore::append_and_commit(uint64_t stream_id, uint64_t stored_upto) {
  if (state_.file_size > 0 && state_.file_size + json_.size() > limits_.max_file_size) {
    if (state_.file_index >= kMaxFileIndex) {
      return resource_exhausted("'" + dir_ + "' has used every events file number; move the " +
                                "files away");
    }
    // The full file was synced with its last commit. If we crash before the state names the new
    // file, recover() removes it again.
    ASSAS_RETURN_IF_ERROR(open_file(state_.file_index + 1, 0));
  }
  std::string path = file_path(state_.file_index);
  Status s = pwrite_all(fd_, json_, static_cast<off_t>(state_.file_size), path);
  // Durable, then committed, then (by the caller) acknowledged. fdatasync also makes a new
  // file's size durable; its name is made durable by commit()'s fsync of the directory.
  if (s.is_ok() && ::fdatasync(fd_) != 0) {
    s = posix_status("fdatasync '" + path + "'", errno);
  }
  if (!s.is_ok()) {
    // Cut off what may have reached the file, so that readers never see a partial line past
    // the committed size; a failed fsync may also have dropped pages we cannot retry.
    if (::ftruncate(fd_, static_cast<off_t>(state_.file_size)) != 0) {
      ASSAS_LOG(kError, "cannot cut off a failed write; it is cut at the next open",
                log::kv("file", path), log::kv("errno", errno));
    }
    return s;
  }
  State next = state_;
  std::optional<uint64_t> evicted = next.set(stream_id, stored_upto);
  next.file_size += json_.size();
  s = commit(next);
  if (!s.is_ok()) {
    return s;
  }
  state_ = next;
  if (evicted) {
    ASSAS_LOG(kWarn, "forgot the de-duplication state of the agent's oldest stream",
              log::kv("agent", identity_), log::kv("stream", *evicted),
              log::kv("streams_kept", static_cast<uint64_t>(kMaxStreams)));
  }
  return Status::ok();
}

}  // namespace assas::ingest
