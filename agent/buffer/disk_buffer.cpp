#include "agent/buffer/disk_buffer.h"

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <deque>
#include <iterator>
#include <map>
#include <utility>

#include <sys/stat.h>

#include <unistd.h>

#include "agent/buffer/segment_format.h"
#include "agent/buffer/segment_reader.h"
#include "agent/buffer/segment_scanner.h"
#include "agent/buffer/segment_writer.h"
#include "agent/buffer/stream_id_file.h"
#include "base/file_util.h"
#include "base/log.h"
#include "base/uv_util.h"

namespace assas::agent {

namespace fmt = segment_format;

namespace {
// When a recovered segment was last written: the age of its records, as well as it is known.
int64_t file_mtime_seconds(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_mtime) : std::time(nullptr);
}
}  // namespace

struct DiskBuffer::Impl {
  enum class State { kOpen, kClosing, kFinishing, kClosed };
  struct Segment {
    std::string path;
    uint64_t size_bytes = 0;
    uint64_t max_seq = 0;                     // highest durable seq in it
    uint32_t version = fmt::kSegmentVersion;  // the layout of its records
  };
  struct IndexEntry {
    uint64_t segment_id = 0;
    uint64_t offset = 0;
    uint32_t length = 0;
    uint32_t event_count = 0;
    int64_t buffered_at_s = 0;  // wall clock; for recovered records, their segment's mtime
  };
  struct Pending {
    BufferRecord record;
    DurableCallback durable;
    uint64_t bytes = 0;
  };
  struct InFlight {
    WriteBatch batch;
    std::vector<Pending> appends;  // records moved into batch; callbacks and sizes stay here
  };

  Impl(uv_loop_t* l, Worker& w, DiskBufferOptions o) : loop(l), worker(w), options(std::move(o)) {}

  void append(BufferRecord record, DurableCallback durable);
  void start_write();
  void on_written(InFlight& job);
  void read_after(uint64_t after, ReadCallback done);
  void release(uint64_t upto);
  void cache_put(const BufferRecord& record);
  static uint64_t cached_size(const BufferRecord& record);
  void defer(std::function<void()> fn);
  static void on_idle(uv_idle_t* handle) noexcept;
  void run_ready();
  void close(std::function<void()> on_closed);
  void maybe_finish_close();

  uv_loop_t* loop;
  Worker& worker;
  DiskBufferOptions options;
  RecoveryReport recovery;
  uint64_t stream_id = 0;
  std::unique_ptr<SegmentWriter> writer;  // used on the Worker thread only, by posted jobs

  std::map<uint64_t, Segment> segments;    // by id (creation order): the last one is the newest
  std::map<uint64_t, IndexEntry> index;    // durable, unreleased records by seq
  std::map<uint64_t, BufferRecord> cache;  // recent durable records by seq
  uint64_t cache_bytes = 0;
  std::deque<Pending> pending;  // appended, waiting for the write in flight to finish
  bool writing = false;
  uint64_t writing_count = 0;      // records in the batch on the Worker
  uint64_t writing_first_seq = 0;  // the first of them
  uint64_t in_flight_bytes = 0;
  uint64_t disk_bytes = 0;
  uint64_t last_seq = 0;
  uint64_t durable_seq = 0;
  uint64_t released_upto = 0;
  uint64_t stored_released_upto = 0;  // what <dir>/released_upto says
  uint64_t indexed_events = 0;        // events in the index
  bool write_failing = false;         // the last append failed (a full or failing disk)
  bool retiring = false;              // the newest segment is being deleted on the Worker
  void maybe_retire_newest(uint64_t upto);

  uv_idle_t idle{};
  std::deque<std::function<void()>> ready;  // completions that must not run inside the call
  State state = State::kOpen;
  std::function<void()> on_closed;
  HandleCloser closer;
};

Result<std::unique_ptr<DiskBuffer>> DiskBuffer::open(uv_loop_t* loop, Worker& worker,
                                                     const DiskBufferOptions& options) {
  ASSAS_RETURN_IF_ERROR(ensure_private_dir(options.dir));
  Result<ScanResult> scan = scan_segments(options.dir);
  if (!scan.is_ok()) {
    return scan.status();
  }
  Result<uint64_t> stream_id = load_or_create_stream_id(options.dir, !scan->segments.empty());
  if (!stream_id.is_ok()) {
    return stream_id.status();
  }
  auto impl = std::make_unique<Impl>(loop, worker, options);
  impl->stream_id = stream_id.value();
  impl->recovery = std::move(scan->report);
  uint64_t id = 0;
  for (ScannedSegment& seg : scan->segments) {
    ++id;
    int64_t written_s = file_mtime_seconds(seg.path);
    for (const ScannedRecord& r : seg.records) {
      impl->index[r.seq] = {id, r.offset, r.length, r.event_count, written_s};
      impl->indexed_events += r.event_count;
    }
    impl->disk_bytes += seg.file_bytes;
    impl->segments[id] = {std::move(seg.path), seg.file_bytes, seg.records.back().seq, seg.version};
  }
  Result<uint64_t> floor = load_seq_floor(options.dir);
  if (!floor.is_ok()) {
    return floor.status();
  }
  // Batches released before the last clean stop are not sent again (see stream_id_file.h).
  uint64_t released = load_released_upto(options.dir, impl->stream_id);
  auto released_end = impl->index.upper_bound(released);
  for (auto it = impl->index.begin(); it != released_end; ++it) {
    impl->indexed_events -= it->second.event_count;
  }
  impl->index.erase(impl->index.begin(), released_end);
  impl->released_upto = impl->stored_released_upto = released;
  impl->last_seq = impl->durable_seq = std::max({impl->recovery.last_seq, floor.value(), released});
  // Newer records than the head existed (the seq floor or released_upto says so) and are gone with
  // their links: nothing is left to continue, so the next batch starts a new chain.
  if (impl->recovery.chain_head && impl->recovery.chain_head->seq != impl->last_seq) {
    impl->recovery.chain_head.reset();
  }
  impl->writer = std::make_unique<SegmentWriter>(options.dir, options.segment_size_bytes,
                                                 options.fsync, id + 1);
  int rc = uv_idle_init(loop, &impl->idle);
  ASSAS_CHECK(rc == 0, "uv_idle_init cannot fail for a valid loop");
  impl->idle.data = impl.get();
  return std::unique_ptr<DiskBuffer>(new DiskBuffer(std::move(impl)));
}

DiskBuffer::DiskBuffer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DiskBuffer::~DiskBuffer() {
  ASSAS_CHECK(impl_->state == Impl::State::kClosed,
              "DiskBuffer destroyed before close() completed");
}

const RecoveryReport& DiskBuffer::recovery() const {
  return impl_->recovery;
}
uint64_t DiskBuffer::stream_id() const {
  return impl_->stream_id;
}
uint64_t DiskBuffer::last_seq() const {
  return impl_->last_seq;
}
uint64_t DiskBuffer::durable_seq() const {
  return impl_->durable_seq;
}

uint64_t DiskBuffer::first_seq() const {
  if (!impl_->index.empty()) {
    return impl_->index.begin()->first;
  }
  if (impl_->writing_count > 0) {
    return impl_->writing_first_seq;
  }
  if (!impl_->pending.empty()) {
    return impl_->pending.front().record.seq;
  }
  return 0;
}

uint64_t DiskBuffer::size_bytes() const {
  return impl_->disk_bytes + impl_->in_flight_bytes;
}

uint64_t DiskBuffer::max_size_bytes() const {
  return impl_->options.max_size_bytes;
}

uint64_t DiskBuffer::record_count() const {
  return impl_->index.size() + impl_->writing_count + impl_->pending.size();
}

bool DiskBuffer::has_room(uint64_t record_bytes) const {
  // An empty buffer takes anything, so that one batch larger than max_size cannot wedge the agent.
  if (record_count() == 0) {
    return true;
  }
  return size_bytes() + record_bytes <= impl_->options.max_size_bytes;
}

void DiskBuffer::append(BufferRecord record, DurableCallback durable) {
  impl_->append(std::move(record), std::move(durable));
}

void DiskBuffer::read_after(uint64_t after, ReadCallback done) {
  impl_->read_after(after, std::move(done));
}

uint64_t DiskBuffer::seq_after(uint64_t after) const {
  auto it = impl_->index.upper_bound(after);
  return it == impl_->index.end() ? 0 : it->first;
}

void DiskBuffer::release(uint64_t upto) {
  impl_->release(upto);
}

uint64_t DiskBuffer::buffered_events() const {
  return impl_->indexed_events;
}

int64_t DiskBuffer::oldest_buffered_at() const {
  return impl_->index.empty() ? 0 : impl_->index.begin()->second.buffered_at_s;
}

DiskBuffer::Span DiskBuffer::oldest_segment() const {
  if (impl_->segments.size() < 2) {
    return {};  // the newest segment is never deleted, so dropping from it frees nothing
  }
  return records_between(0, impl_->segments.begin()->second.max_seq);
}

DiskBuffer::Span DiskBuffer::records_between(uint64_t after, uint64_t upto) const {
  Span span;
  for (auto it = impl_->index.upper_bound(after); it != impl_->index.end() && it->first <= upto;
       ++it) {
    span.upto = it->first;
    ++span.batches;
    span.events += it->second.event_count;
  }
  return span;
}

uint64_t DiskBuffer::bytes_after(uint64_t seq) const {
  uint64_t bytes = impl_->in_flight_bytes;
  for (const auto& [id, segment] : impl_->segments) {
    if (segment.max_seq > seq) {
      bytes += segment.size_bytes;
    }
  }
  return bytes;
}

void DiskBuffer::close(std::function<void()> on_closed) {
  impl_->close(std::move(on_closed));
}

// Group commit: while one batch is on the Worker, appends queue up; when it completes, the whole
// queue goes as the next batch, covered by one fsync.
void DiskBuffer::Impl::append(BufferRecord record, DurableCallback durable) {
  if (state != State::kOpen) {
    defer([durable = std::move(durable)] { durable(unavailable("the disk buffer is closing")); });
    return;
  }
  // The pipeline numbers batches; a seq that does not increase is a bug there, not bad input.
  ASSAS_CHECK(record.seq > last_seq, "disk buffer appends must have increasing seqs");
  last_seq = record.seq;
  uint64_t bytes = fmt::encoded_record_size(record);
  in_flight_bytes += bytes;
  pending.push_back(Pending{std::move(record), std::move(durable), bytes});
  start_write();
}

void DiskBuffer::Impl::start_write() {
  if (writing || pending.empty()) {
    return;
  }
  writing = true;
  auto job = std::make_shared<InFlight>();
  for (Pending& p : pending) {
    job->batch.records.push_back(std::move(p.record));
    job->appends.push_back(Pending{{}, std::move(p.durable), p.bytes});
  }
  pending.clear();
  writing_count = job->batch.records.size();
  writing_first_seq = job->batch.records.front().seq;
  SegmentWriter* w = writer.get();
  worker.post([w, job] { w->write(job->batch); }, [this, job] { on_written(*job); });
}

void DiskBuffer::Impl::on_written(InFlight& job) {
  writing = false;
  writing_count = 0;
  for (const WriteBatch::SegmentState& seg : job.batch.segments) {
    Segment& entry = segments[seg.id];
    disk_bytes = disk_bytes - entry.size_bytes + seg.size_bytes;
    entry.path = seg.path;
    entry.size_bytes = seg.size_bytes;
  }
  // Update every count before any callback runs: a callback may append, read or release.
  std::vector<std::pair<DurableCallback, Status>> completions;
  Status failure;
  int64_t now_s = std::time(nullptr);
  for (size_t i = 0; i < job.appends.size(); ++i) {
    const WriteBatch::Outcome& outcome = job.batch.outcomes[i];
    BufferRecord& record = job.batch.records[i];
    in_flight_bytes -= job.appends[i].bytes;
    if (outcome.status.is_ok()) {
      index[record.seq] = {outcome.segment_id, outcome.offset, outcome.length, record.event_count,
                           now_s};
      indexed_events += record.event_count;
      segments[outcome.segment_id].max_seq = record.seq;
      durable_seq = record.seq;
      cache_put(record);
    } else if (failure.is_ok()) {
      failure = outcome.status;
      if (!write_failing) {  // the pipeline retries every second: once per spell is enough
        ASSAS_LOG(kError, "disk buffer append failed", log::kv("seq", record.seq),
                  log::kv("error", failure.to_string()));
      }
    }
    completions.emplace_back(std::move(job.appends[i].durable), outcome.status);
  }
  write_failing = !failure.is_ok();
  if (!failure.is_ok()) {
    // Appends queued behind a failed one fail too, so that the pipeline can append the failed
    // seq again: seqs in the buffer have no holes and keep increasing.
    last_seq = durable_seq;
    for (Pending& p : pending) {
      in_flight_bytes -= p.bytes;
      completions.emplace_back(std::move(p.durable), failure);
    }
    pending.clear();
    // A release that came while this write was on the Worker could not retire the newest segment
    // (the write might have added to it); now it can, and before the retry is queued behind it.
    if (!segments.empty()) {
      maybe_retire_newest(released_upto);
    }
  }
  for (auto& [durable, status] : completions) {
    durable(status);
  }
  start_write();
  maybe_finish_close();
}

// What a cached record costs: its payload, its positions, and the map node and control blocks
// around them (an estimate; the point is that the bound covers more than payload bytes).
uint64_t DiskBuffer::Impl::cached_size(const BufferRecord& record) {
  uint64_t bytes = (record.payload ? record.payload->size() : 0) + 160 + sizeof(transport::Digest) +
                   record.chain.signature.size();
  for (const auto& [source_id, position] : record.positions) {
    bytes += source_id.size() + position.token.size() + 64;
  }
  return bytes;
}

// The cache keeps the OLDEST unreleased records that fit, and skips new ones once full: those are
// what the shippers read next, also after an outage (evicting the oldest for the newest, as it
// did, meant that a long outage filled it with the batches sent last, then read everything else
// from disk anyway). Released records leave it in release().
void DiskBuffer::Impl::cache_put(const BufferRecord& record) {
  uint64_t bytes = cached_size(record);
  if (cache_bytes + bytes > options.cache_bytes) {
    return;
  }
  cache[record.seq] = record;
  cache_bytes += bytes;
}

void DiskBuffer::Impl::read_after(uint64_t after, ReadCallback done) {
  if (state != State::kOpen) {
    defer([done = std::move(done)] { done(unavailable("the disk buffer is closing")); });
    return;
  }
  auto it = index.upper_bound(after);
  if (it == index.end()) {
    defer([done = std::move(done), after] {
      done(not_found("no durable record after seq " + std::to_string(after)));
    });
    return;
  }
  uint64_t seq = it->first;
  if (auto cached = cache.find(seq); cached != cache.end()) {
    defer([done = std::move(done), record = cached->second]() mutable { done(std::move(record)); });
    return;
  }
  // Jobs run in order, so this read runs before any unlink that a later release() posts.
  const IndexEntry& entry = it->second;
  const Segment& segment = segments.at(entry.segment_id);
  auto result = std::make_shared<Result<BufferRecord>>(internal_error("read did not run"));
  worker.post([result, path = segment.path, version = segment.version, offset = entry.offset,
               length = entry.length,
               seq] { *result = read_segment_record(path, offset, length, seq, version); },
              [result, done = std::move(done)] { done(std::move(*result)); });
}

void DiskBuffer::Impl::release(uint64_t upto) {
  if (upto <= released_upto) {
    return;
  }
  released_upto = upto;
  auto end = index.upper_bound(upto);
  for (auto it = index.begin(); it != end; ++it) {
    indexed_events -= it->second.event_count;
  }
  index.erase(index.begin(), end);
  for (auto it = cache.begin(); it != cache.end() && it->first <= upto;) {
    cache_bytes -= cached_size(it->second);
    it = cache.erase(it);
  }
  if (segments.empty()) {
    return;
  }
  maybe_retire_newest(upto);
  uint64_t newest = segments.rbegin()->first;  // kept: it holds the highest seq across restarts
  for (auto it = segments.begin(); it != segments.end() && it->first != newest;) {
    if (it->second.max_seq > upto) {
      break;  // segments hold increasing seqs: no later one is fully released either
    }
    disk_bytes -= it->second.size_bytes;
    worker.post(
        [path = it->second.path] {
          if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
            ASSAS_LOG(kError, "cannot delete a released disk buffer segment",
                      log::kv("segment", path),
                      log::kv("error", posix_status("unlink", errno).message()));
          }
        },
        nullptr);
    it = segments.erase(it);
  }
}

// The newest segment is kept, as it says where the seqs were, unless the space it holds is wanted:
// when the disk refused a write, or the buffer is past half its max_size, and every record in it is
// released. Without this, a disk that filled while everything buffered sat in one segment would
// never get space back (found by the full-disk fault test), nor would a max_size below
// segment_size. It waits while a write is on the Worker (that write could still add to it).
void DiskBuffer::Impl::maybe_retire_newest(uint64_t upto) {
  auto newest = std::prev(segments.end());
  if (retiring || writing || !pending.empty() || newest->second.max_seq > upto ||
      (!write_failing && disk_bytes <= options.max_size_bytes / 2)) {
    return;
  }
  retiring = true;
  auto result = std::make_shared<Status>();
  SegmentWriter* w = writer.get();
  worker.post([w, result, id = newest->first, path = newest->second.path,
               max_seq = newest->second.max_seq] { *result = w->retire(id, path, max_seq); },
              [this, result, id = newest->first] {
                retiring = false;
                auto it = segments.find(id);
                if (!result->is_ok()) {
                  ASSAS_LOG(kWarn, "cannot delete the released newest disk buffer segment yet",
                            log::kv("error", result->to_string()));
                  return;
                }
                if (it != segments.end()) {
                  disk_bytes -= it->second.size_bytes;
                  segments.erase(it);
                }
              });
}

// Completions of calls that would otherwise call back before returning (which the caller may not
// expect, and which could recurse without bound) run from an idle handle on the next loop turn.
void DiskBuffer::Impl::defer(std::function<void()> fn) {
  if (state == State::kFinishing || state == State::kClosed) {
    fn();  // the idle handle is going; nothing can be queued behind it
    return;
  }
  ready.push_back(std::move(fn));
  int rc = uv_idle_start(&idle, &Impl::on_idle);
  ASSAS_CHECK(rc == 0, "uv_idle_start cannot fail on an initialised handle");
}

void DiskBuffer::Impl::on_idle(uv_idle_t* handle) noexcept {
  static_cast<Impl*>(handle->data)->run_ready();
}

void DiskBuffer::Impl::run_ready() {
  std::deque<std::function<void()>> now;
  now.swap(ready);
  uv_idle_stop(&idle);
  for (auto& fn : now) {
    fn();
  }
}

void DiskBuffer::Impl::close(std::function<void()> callback) {
  if (state != State::kOpen) {
    return;
  }
  state = State::kClosing;
  on_closed = std::move(callback);
  maybe_finish_close();
}

// Closing waits for the batch in flight (its callbacks still run), then closes the segment on the
// Worker behind every job posted before, then the idle handle.
void DiskBuffer::Impl::maybe_finish_close() {
  if (state != State::kClosing || writing || !pending.empty()) {
    return;
  }
  state = State::kFinishing;
  SegmentWriter* w = writer.get();
  bool store_released = released_upto > stored_released_upto;
  worker.post(
      [w, store_released, dir = options.dir, id = stream_id, upto = released_upto] {
        w->close();
        if (!store_released) {
          return;
        }
        Status s = store_released_upto(dir, id, upto);
        if (!s.is_ok()) {
          ASSAS_LOG(kWarn,
                    "cannot write the disk buffer's released_upto; batches "
                    "delivered already may be sent again after the restart",
                    log::kv("error", s.to_string()));
        }
      },
      [this] {
        while (!ready.empty()) {
          run_ready();
        }
        closer.close(&idle);
        closer.when_closed(
            [](void* self) {
              auto* impl = static_cast<Impl*>(self);
              impl->state = State::kClosed;
              auto done = std::move(impl->on_closed);
              if (done) {
                done();
              }
            },
            this);
      });
}

}  // namespace assas::agent
