#include "ingest/agent_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "base/crc32c.h"
#include "base/file_util.h"
#include "base/log.h"
#include "ingest/json_writer.h"
#include "transport/protocol/batch_codec.h"

namespace assas::ingest {
namespace {

constexpr size_t kMaxStateBytes = 4096;
constexpr const char* kStateMagic = "assas-ingest-state 1";

std::string encode_state(uint64_t stream_id, uint64_t stored_upto, uint32_t file_index,
                         uint64_t file_size) {
  char body[256];
  int n = std::snprintf(body, sizeof body,
                        "%s\nstream_id %" PRIu64 "\nstored_upto %" PRIu64
                        "\nfile_index %u\nfile_size %" PRIu64 "\n",
                        kStateMagic, stream_id, stored_upto, file_index, file_size);
  std::string out(body, static_cast<size_t>(n));
  char crc[32];
  std::snprintf(crc, sizeof crc, "crc %08x\n", crc32c::value(out));
  return out + crc;
}

}  // namespace

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
  if (text.is_ok()) {
    size_t crc_at = text->rfind("crc ");
    unsigned stored_crc = 0;
    unsigned long long stream = 0;
    unsigned long long upto = 0;
    unsigned index = 0;
    unsigned long long size = 0;
    bool ok = crc_at != std::string::npos &&
              std::sscanf(text->c_str() + crc_at, "crc %8x", &stored_crc) == 1 &&
              stored_crc == crc32c::value(std::string_view(*text).substr(0, crc_at)) &&
              std::sscanf(text->c_str(),
                          "assas-ingest-state 1\nstream_id %llu\nstored_upto %llu\nfile_index "
                          "%u\nfile_size %llu\n",
                          &stream, &upto, &index, &size) == 4 &&
              index >= 1;
    if (!ok) {
      return corruption("state file '" + path +
                        "' is damaged; the stored events are intact, but de-duplication state is "
                        "lost: move the file away to accept this agent again (resent batches may "
                        "then be stored twice)");
    }
    state_ = State{stream, upto, index, size};
  }
  // Anything written after the last commit was never acknowledged: the agent will send it again.
  for (uint32_t later = state_.file_index + 1;; ++later) {
    if (::unlink(file_path(later).c_str()) != 0) {
      break;
    }
  }
  return open_file(state_.file_index, state_.file_size);
}

Status AgentStore::open_file(uint32_t index, uint64_t committed_size) {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  std::string path = file_path(index);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    return posix_status("open '" + path + "'", errno);
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    return posix_status("stat '" + path + "'", errno);
  }
  if (static_cast<uint64_t>(st.st_size) > committed_size) {
    ASSAS_LOG(kWarn, "cutting off events written but never acknowledged; the agent resends them",
              log::kv("file", path), log::kv("bytes", static_cast<uint64_t>(st.st_size) - committed_size));
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

Status AgentStore::commit() {
  return atomic_write_file(dir_ + "/state", encode_state(state_.stream_id, state_.stored_upto,
                                                         state_.file_index, state_.file_size));
}

uint64_t AgentStore::stored_upto(uint64_t stream_id) const {
  return stream_id == state_.stream_id ? state_.stored_upto : 0;
}

Result<WriteOutcome> AgentStore::write(uint64_t stream_id, const std::string& host,
                                       std::vector<ReceivedBatch>& batches) {
  WriteOutcome outcome;
  if (stream_id != state_.stream_id) {
    ASSAS_LOG(kInfo, "agent started a new buffer stream; de-duplication restarts",
              log::kv("agent", identity_), log::kv("old_stream", state_.stream_id),
              log::kv("new_stream", stream_id));
    state_.stream_id = stream_id;
    state_.stored_upto = 0;
  }
  json_.clear();
  uint64_t new_upto = state_.stored_upto;
  Status refused;
  for (ReceivedBatch& batch : batches) {
    if (batch.seq <= new_upto) {
      ++outcome.duplicates_dropped;
      continue;
    }
    if (batch.event_count > limits_.max_batch_events) {
      refused = corruption("batch " + std::to_string(batch.seq) + " declares too many events");
      break;
    }
    Status s = decompressor_.decompress(batch.codec, batch.payload, batch.raw_size,
                                        limits_.max_batch_bytes, raw_);
    size_t mark = json_.size();
    uint64_t events = 0;
    if (s.is_ok()) {
      s = transport::decode_batch(raw_, batch.event_count,
                                  [&](const transport::DecodedBatchHeader& header,
                                      const transport::DecodedEvent& event) {
                                    (void)header;
                                    append_event_json(json_, identity_, host, event);
                                    ++events;
                                  });
    }
    if (s.is_ok() && events != batch.event_count) {
      s = corruption("batch holds " + std::to_string(events) + " events, not the declared " +
                     std::to_string(batch.event_count));
    }
    if (!s.is_ok()) {
      json_.resize(mark);  // a corrupt batch writes nothing
      refused = s.with_context("batch " + std::to_string(batch.seq));
      break;
    }
    outcome.events_written += events;
    new_upto = batch.seq;
  }
  if (new_upto != state_.stored_upto) {
    if (state_.file_size > 0 && state_.file_size + json_.size() > limits_.max_file_size) {
      // The full file was synced with its last batch; a new one starts (recover() removes it
      // again if we crash before it is committed).
      ASSAS_RETURN_IF_ERROR(open_file(state_.file_index + 1, 0));
      ASSAS_RETURN_IF_ERROR(fsync_dir(dir_));
    }
    std::string path = file_path(state_.file_index);
    ASSAS_RETURN_IF_ERROR(
        pwrite_all(fd_, json_, static_cast<off_t>(state_.file_size), path));
    // Durable, then committed, then (by the caller) acknowledged.
    if (::fdatasync(fd_) != 0) {
      return posix_status("fdatasync '" + path + "'", errno);
    }
    state_.file_size += json_.size();
    state_.stored_upto = new_upto;
    ASSAS_RETURN_IF_ERROR(commit());
  }
  outcome.stored_upto = state_.stored_upto;
  if (!refused.is_ok()) {
    return refused;
  }
  return outcome;
}

}  // namespace assas::ingest
