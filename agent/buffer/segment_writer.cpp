#include "agent/buffer/segment_writer.h"

#include <cerrno>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "agent/buffer/segment_format.h"
#include "agent/buffer/stream_id_file.h"
#include "base/file_util.h"
#include "base/log.h"

namespace assas::agent {

namespace fmt = segment_format;

SegmentWriter::SegmentWriter(std::string dir, uint64_t segment_size_bytes, bool fsync,
                             uint64_t next_id)
    : dir_(std::move(dir)),
      segment_size_bytes_(segment_size_bytes),
      fsync_(fsync),
      next_id_(next_id) {}

SegmentWriter::~SegmentWriter() {
  close();
}

void SegmentWriter::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Status SegmentWriter::retire(uint64_t id, const std::string& path, uint64_t max_seq) {
  ASSAS_RETURN_IF_ERROR(store_seq_floor(dir_, max_seq));
  if (fd_ >= 0 && id_ == id) {
    close();
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return posix_status("unlink '" + path + "'", errno);
  }
  return Status::ok();
}

void SegmentWriter::write(WriteBatch& batch) {
  size_t n = batch.records.size();
  batch.outcomes.assign(n, WriteBatch::Outcome{});
  size_t first_unsynced = 0;  // records from here on are written but not yet durable
  for (size_t i = 0; i < n; ++i) {
    const BufferRecord& record = batch.records[i];
    bool full = fd_ >= 0 && written_bytes_ > fmt::kSegmentHeaderSize &&
                written_bytes_ >= segment_size_bytes_;
    if (fd_ < 0 || full) {
      // The records already in the old segment must be durable before we leave it.
      Status s = sync();
      if (!s.is_ok()) {
        fail(batch, first_unsynced, s);
        return;
      }
      settle(batch);
      close();
      first_unsynced = i;
      s = open_segment(record.seq);
      if (!s.is_ok()) {
        fail(batch, i, s);
        return;
      }
    }
    track(batch);
    std::string framed = fmt::encode_record(record);
    Status s = write_all(fd_, framed, path_);
    if (!s.is_ok()) {
      fail(batch, first_unsynced, s);
      return;
    }
    batch.outcomes[i] = {Status::ok(), id_, written_bytes_, static_cast<uint32_t>(framed.size())};
    written_bytes_ += framed.size();
    if (!fsync_) {
      good_bytes_ = written_bytes_;  // durable once written, by configuration
      first_unsynced = i + 1;
      settle(batch);
    }
  }
  Status s = sync();
  if (!s.is_ok()) {
    fail(batch, first_unsynced, s);
    return;
  }
  settle(batch);
}

Status SegmentWriter::sync() {
  if (fd_ < 0 || good_bytes_ == written_bytes_) {
    return Status::ok();
  }
  if (fsync_ && ::fdatasync(fd_) != 0) {
    return posix_status("fsync '" + path_ + "'", errno);
  }
  good_bytes_ = written_bytes_;
  return Status::ok();
}

Status SegmentWriter::open_segment(uint64_t first_seq) {
  std::string path = dir_ + "/" + fmt::segment_file_name(first_seq);
  // O_TRUNC: a file of this name can only hold bytes of appends that never completed (a valid
  // record in it would have a seq >= first_seq, above every durable seq).
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return posix_status("create segment '" + path + "'", errno);
  }
  Status s = write_all(fd, fmt::encode_segment_header(), path);
  if (s.is_ok() && fsync_ && ::fdatasync(fd) != 0) {
    s = posix_status("fsync '" + path + "'", errno);
  }
  if (s.is_ok() && fsync_) {
    s = fsync_dir(dir_);  // the new name must survive a crash along with its records
  }
  if (!s.is_ok()) {
    ::close(fd);
    ::unlink(path.c_str());
    return s;
  }
  fd_ = fd;
  id_ = next_id_++;
  path_ = std::move(path);
  written_bytes_ = good_bytes_ = fmt::kSegmentHeaderSize;
  return Status::ok();
}

void SegmentWriter::track(WriteBatch& batch) {
  if (batch.segments.empty() || batch.segments.back().id != id_) {
    batch.segments.push_back({id_, path_, good_bytes_});
  }
}

void SegmentWriter::settle(WriteBatch& batch) {
  if (!batch.segments.empty() && batch.segments.back().id == id_) {
    batch.segments.back().size_bytes = good_bytes_;
  }
}

void SegmentWriter::fail(WriteBatch& batch, size_t from, const Status& status) {
  for (size_t i = from; i < batch.outcomes.size(); ++i) {
    batch.outcomes[i] = WriteBatch::Outcome{status.with_context("disk buffer append"), 0, 0, 0};
  }
  if (fd_ < 0) {
    return;
  }
  if (::ftruncate(fd_, static_cast<off_t>(good_bytes_)) != 0) {
    // Whatever stayed behind fails its CRC or repeats a seq at recovery; both are skipped.
    ASSAS_LOG(kError, "cannot cut a failed append off a disk buffer segment",
              log::kv("segment", path_),
              log::kv("error", posix_status("ftruncate", errno).message()));
  }
  close();
  if (good_bytes_ == fmt::kSegmentHeaderSize) {
    // Nothing durable in it: this batch created it, so the loop has never heard of it.
    ::unlink(path_.c_str());
    if (!batch.segments.empty() && batch.segments.back().id == id_) {
      batch.segments.pop_back();
    }
  } else {
    settle(batch);
  }
}

}  // namespace assas::agent
