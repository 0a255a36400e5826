// AgentStore, opening side: reading the state, cutting the files back to what it committed, and
// bringing a store of an older format up to the chain (the writing side is agent_store.cpp).

#include <cerrno>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/file_util.h"
#include "base/log.h"
#include "ingest/agent_store.h"
#include "ingest/store_files.h"

namespace assas::ingest {
namespace {

constexpr uint64_t kChainHeaderSize = kChainFileHeader.size();

}  // namespace

Status AgentStore::recover() {
  std::string path = dir_ + "/state";
  Result<std::string> text = read_file(path, kMaxStateFileBytes);
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
    state_ = StoreState{};
    state_.chain_size = kChainHeaderSize;
    ASSAS_RETURN_IF_ERROR(commit(state_));
    return open_files(state_.file_index, 0, 0, kChainHeaderSize);
  }
  std::optional<StoreState> decoded = decode_store_state(*text);
  if (!decoded) {
    return corruption("state file '" + path +
                      "' is damaged; the stored events are intact, but de-duplication state is "
                      "lost: move the file away to accept this agent again (resent batches may "
                      "then be stored twice)");
  }
  state_ = std::move(*decoded);
  // Files after the committed ones were started by a rotation that never committed: all they
  // hold was never acknowledged, and the agent sends it again.
  for (uint32_t later = state_.file_index + 1; later <= kMaxFileIndex; ++later) {
    bool removed = false;
    for (const char* extension : {"jsonl", "chain"}) {
      std::string later_path = file_path(later, extension);
      if (::unlink(later_path.c_str()) == 0) {
        removed = true;
        ASSAS_LOG(kWarn, "removed a file started but never committed; the agent resends it",
                  log::kv("file", later_path));
      }
    }
    if (!removed) {
      break;
    }
  }
  if (state_.format == 3) {
    return open_files(state_.file_index, state_.file_size, state_.file_lines, state_.chain_size);
  }
  // An older state: open_files works out the lines and the chain file, and they are committed at
  // once, so that a chain record written later is never left uncut past a state that cannot say
  // where the chain file ends.
  ASSAS_RETURN_IF_ERROR(
      open_files(state_.file_index, state_.file_size, std::nullopt, std::nullopt));
  return commit(state_);
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

Status AgentStore::open_files(uint32_t index, uint64_t events_size, std::optional<uint64_t> lines,
                              std::optional<uint64_t> chain_size) {
  close_files();
  std::string path = file_path(index, "jsonl");
  Result<int> fd = open_committed_file(path, events_size, "events");
  if (!fd.is_ok()) {
    return fd.status();
  }
  fd_ = *fd;
  if (!lines) {
    // A state of format 1 or 2: count the committed lines once.
    Result<uint64_t> counted = count_lines(fd_, events_size, path);
    if (!counted.is_ok()) {
      return counted.status();
    }
    lines = *counted;
  }
  ASSAS_RETURN_IF_ERROR(open_chain_file(index, events_size, chain_size));
  state_.file_index = index;
  state_.file_size = events_size;
  state_.file_lines = *lines;
  return Status::ok();
}

// Sets state_.chain_size to what is committed in the chain file, which then starts with its header.
Status AgentStore::open_chain_file(uint32_t index, uint64_t events_size,
                                   std::optional<uint64_t> chain_size) {
  std::string path = file_path(index, "chain");
  uint64_t committed = chain_size.value_or(0);
  if (!chain_size) {
    // A state of format 1 or 2 does not know the chain file: keep the whole records it has (a
    // version with the chain ran before an older one), or start it.
    int probe = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (probe >= 0) {
      Result<uint64_t> size = file_size_of(probe, path);
      Result<uint64_t> end = size.is_ok() ? last_line_end(probe, *size, path) : size;
      ::close(probe);
      if (!end.is_ok()) {
        return end.status();
      }
      committed = *end;
    } else if (errno != ENOENT) {
      return posix_status("open '" + path + "'", errno);
    }
    if (committed < kChainHeaderSize && events_size > 0) {
      ASSAS_LOG(kWarn,
                "the events stored before this version have no chain records; they cannot be "
                "verified, those stored from now on can",
                log::kv("agent", identity_), log::kv("file", path));
    }
  }
  if (committed > kChainHeaderSize) {
    Result<int> fd = open_committed_file(path, committed, "chain records");
    if (!fd.is_ok()) {
      return fd.status();
    }
    chain_fd_ = *fd;
    state_.chain_size = committed;
    return Status::ok();
  }
  // No record committed: the file is new, holds just its header, or a header that never became
  // durable; it is started again (the header is always the same bytes).
  Result<int> fd = open_private_file(path);
  if (!fd.is_ok()) {
    return fd.status();
  }
  chain_fd_ = *fd;
  Result<uint64_t> size = file_size_of(chain_fd_, path);
  ASSAS_RETURN_IF_ERROR(size.status());
  if (*size > kChainHeaderSize) {
    ASSAS_LOG(kWarn, "cutting off what was written but never acknowledged; the agent resends it",
              log::kv("file", path), log::kv("bytes", *size - kChainHeaderSize));
  }
  Status s = Status::ok();
  if (::ftruncate(chain_fd_, 0) != 0) {
    s = posix_status("truncate '" + path + "'", errno);
  }
  if (s.is_ok()) {
    s = pwrite_all(chain_fd_, kChainFileHeader, 0, path);
  }
  if (s.is_ok() && ::fdatasync(chain_fd_) != 0) {
    s = posix_status("fdatasync '" + path + "'", errno);
  }
  ASSAS_RETURN_IF_ERROR(s);
  committed = kChainHeaderSize;
  state_.chain_size = committed;
  return Status::ok();
}

}  // namespace assas::ingest
