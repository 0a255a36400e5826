#include "ingest/agent_store.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include "base/file_util.h"
#include "base/log.h"
#include "ingest/store_files.h"
#include "transport/protocol/batch_codec.h"
#include "transport/protocol/event_json.h"
#include "transport/tls/chain_signer.h"

namespace assas::ingest {
namespace {

constexpr uint64_t kChainHeaderSize = kChainFileHeader.size();

std::string stream_hex(uint64_t stream_id) {
  char text[20];
  std::snprintf(text, sizeof text, "%016" PRIx64, stream_id);
  return text;
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
  close_files();
}

void AgentStore::close_files() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (chain_fd_ >= 0) {
    ::close(chain_fd_);
    chain_fd_ = -1;
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

std::string AgentStore::file_path(uint32_t index, const char* extension) const {
  char name[40];
  std::snprintf(name, sizeof name, "/events-%08u.%s", index, extension);
  return dir_ + name;
}

Status AgentStore::commit(const StoreState& state) {
  return atomic_write_file(dir_ + "/state", encode_store_state(state));
}

uint64_t AgentStore::stored_upto(uint64_t stream_id) const {
  return state_.upto(stream_id);
}

StoreCounts AgentStore::take_counts() {
  StoreCounts out = counts_;
  counts_ = StoreCounts{};
  return out;
}

Result<WriteOutcome> AgentStore::write(uint64_t stream_id, std::vector<ReceivedBatch>& batches) {
  WriteOutcome outcome;
  // Work on copies: the state moves only once the write is durable and committed, so a failure
  // anywhere below leaves the store exactly as the last commit describes it.
  const StreamState* known = state_.find(stream_id);
  const bool new_stream = known == nullptr;
  uint64_t new_upto = known == nullptr ? 0 : known->upto;
  std::optional<ChainHead> head;
  if (known != nullptr && known->head_link) {
    head = ChainHead{known->upto, *known->head_link};
  }
  const uint64_t old_upto = new_upto;
  json_.clear();
  records_.clear();
  new_certs_.clear();
  uint64_t lines = 0;
  Status refused;
  for (ReceivedBatch& batch : batches) {
    if (batch.seq <= new_upto) {
      ++outcome.duplicates_dropped;
      continue;
    }
    Result<ChainRecord> record = format_batch(stream_id, batch);
    if (!record.is_ok()) {
      refused = record.status().with_context("batch " + std::to_string(batch.seq));
      break;
    }
    record->line = lines + 1;  // made absolute once the file it goes to is known
    lines += record->events;
    judge(*record, batch, head);
    head = ChainHead{batch.seq, record->link};
    new_upto = batch.seq;
    records_.push_back(std::move(record).value());
  }
  counts_.duplicates += outcome.duplicates_dropped;
  if (new_upto != old_upto) {
    Status s = save_certificates();
    if (s.is_ok()) {
      s = append_and_commit(stream_id, new_upto, head->link, lines);
    }
    if (!s.is_ok()) {
      return s;
    }
    outcome.events_written = lines;
    count_committed();
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

// Formats the batch's events as JSON lines and, in the same decoding pass, hashes their canonical
// encodings (exactly as transport::hash_batch does on the agent) for the batch's link.
Result<ChainRecord> AgentStore::format_batch(uint64_t stream_id, const ReceivedBatch& batch) {
  if (batch.event_count > limits_.max_batch_events) {
    return corruption("declares " + std::to_string(batch.event_count) +
                      " events, over the limit of " + std::to_string(limits_.max_batch_events));
  }
  Status s = decompressor_.decompress(batch.codec, batch.payload, batch.raw_size,
                                      limits_.max_batch_bytes, raw_);
  const size_t mark = json_.size();
  ChainRecord record;
  record.stream = stream_id;
  record.seq = batch.seq;
  record.prev_seq = batch.chain.prev_seq;
  record.prev_link = batch.chain.prev_link;
  if (s.is_ok()) {
    s = transport::decode_batch(
        raw_, batch.event_count,
        [&](const transport::DecodedBatchHeader& header, const transport::DecodedEvent& event) {
          transport::append_event_json(json_, identity_, header.host, event);
          std::string_view canonical = hasher_.add(transport::canonical_view(header, event));
          record.fingerprints.push_back(transport::event_fingerprint(canonical));
        });
  }
  const uint32_t events = hasher_.events();
  const transport::Digest content = hasher_.finish();  // also starts over after a failure
  if (s.is_ok() && events != batch.event_count) {
    s = corruption("holds " + std::to_string(events) + " events, not the declared " +
                   std::to_string(batch.event_count));
  }
  if (!s.is_ok()) {
    json_.resize(mark);  // a corrupt batch writes nothing
    return s;
  }
  record.events = events;
  record.link = transport::chain_link(batch.seq, batch.chain.prev_seq, batch.chain.prev_link,
                                      events, content);
  return record;
}

void AgentStore::judge(ChainRecord& record, const ReceivedBatch& batch,
                       const std::optional<ChainHead>& head) {
  record.status = chain_verdict(batch.chain, head);
  if (batch.chain.signature.empty()) {
    return;
  }
  record.signature = batch.chain.signature;
  if (batch.signer == nullptr || !transport::verify_checkpoint(batch.signer->key(), batch.seq,
                                                               record.link, record.signature)) {
    record.status += "+break-signature";
    return;
  }
  record.cert = batch.signer->fingerprint();
  bool queued = std::any_of(new_certs_.begin(), new_certs_.end(),
                            [&](const auto& key) { return key->fingerprint() == record.cert; });
  if (!queued && saved_certs_.count(record.cert) == 0) {
    new_certs_.push_back(batch.signer);
  }
}

// The certificates that verified checkpoints go to certs/ before any record naming them is
// committed, so that `verify` always finds the certificate a record names.
Status AgentStore::save_certificates() {
  for (const std::shared_ptr<const AgentKey>& key : new_certs_) {
    std::string dir = dir_ + "/certs";
    std::string path = dir + "/" + key->fingerprint() + ".pem";
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno != ENOENT) {
        return posix_status("stat '" + path + "'", errno);
      }
      ASSAS_RETURN_IF_ERROR(ensure_private_dir(dir));
      ASSAS_RETURN_IF_ERROR(atomic_write_file(path, key->pem()));
      ASSAS_LOG(kInfo, "stored the certificate that signs the agent's chain",
                log::kv("agent", identity_), log::kv("file", path));
    }
    saved_certs_.insert(key->fingerprint());
  }
  new_certs_.clear();
  return Status::ok();
}

Status AgentStore::append_and_commit(uint64_t stream_id, uint64_t stored_upto,
                                     const transport::Digest& head_link, uint64_t lines) {
  if (state_.file_size > 0 && state_.file_size + json_.size() > limits_.max_file_size) {
    if (state_.file_index >= kMaxFileIndex) {
      return resource_exhausted("'" + dir_ + "' has used every events file number; move the " +
                                "files away");
    }
    // The full files were synced with their last commit. If we crash before the state names the
    // new ones, recover() removes them again.
    ASSAS_RETURN_IF_ERROR(open_files(state_.file_index + 1, 0, 0, kChainHeaderSize));
  }
  chain_.clear();
  for (ChainRecord& record : records_) {
    record.line += state_.file_lines;
    append_chain_record(chain_, record);
  }
  std::string path = file_path(state_.file_index, "jsonl");
  std::string chain_path = file_path(state_.file_index, "chain");
  Status s = pwrite_all(fd_, json_, static_cast<off_t>(state_.file_size), path);
  if (s.is_ok()) {
    s = pwrite_all(chain_fd_, chain_, static_cast<off_t>(state_.chain_size), chain_path);
  }
  // Durable, then committed, then (by the caller) acknowledged. fdatasync also makes a new
  // file's size durable; its name is made durable by commit()'s fsync of the directory.
  if (s.is_ok() && ::fdatasync(fd_) != 0) {
    s = posix_status("fdatasync '" + path + "'", errno);
  }
  if (s.is_ok() && ::fdatasync(chain_fd_) != 0) {
    s = posix_status("fdatasync '" + chain_path + "'", errno);
  }
  if (!s.is_ok()) {
    // Cut off what may have reached the files, so that readers never see a partial line past
    // the committed size; a failed fsync may also have dropped pages we cannot retry.
    if (::ftruncate(fd_, static_cast<off_t>(state_.file_size)) != 0 ||
        ::ftruncate(chain_fd_, static_cast<off_t>(state_.chain_size)) != 0) {
      ASSAS_LOG(kError, "cannot cut off a failed write; it is cut at the next open",
                log::kv("file", path), log::kv("errno", errno));
    }
    return s;
  }
  StoreState next = state_;
  std::optional<uint64_t> evicted = next.set(stream_id, stored_upto, head_link);
  next.file_size += json_.size();
  next.file_lines += lines;
  next.chain_size += chain_.size();
  next.format = 3;
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

// Counts and logs the verdicts of the batches just committed.
void AgentStore::count_committed() {
  for (const ChainRecord& record : records_) {
    ++counts_.batches;
    counts_.events += record.events;
    counts_.count_status(record.status);
    if (!record.signature.empty()) {
      ++(record.cert.empty() ? counts_.signatures_bad : counts_.signatures_ok);
    }
    if (is_break_status(record.status)) {
      // Rate-limited by the log like every warning; the counters and the chain file have all.
      ASSAS_LOG(kWarn, "chain break", log::kv("agent", identity_),
                log::kv("stream", stream_hex(record.stream)), log::kv("seq", record.seq),
                log::kv("status", record.status), log::kv("prev_seq", record.prev_seq),
                log::kv("file", file_path(state_.file_index, "jsonl")),
                log::kv("line", record.line));
    }
  }
}

}  // namespace assas::ingest
