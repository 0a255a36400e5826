#include "agent/buffer/segment_scanner.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "agent/buffer/segment_format.h"
#include "base/bytes.h"
#include "base/file_util.h"
#include "base/log.h"

namespace assas::agent {

namespace fmt = segment_format;

namespace {

constexpr size_t kReadChunk = 1U << 20;

// Sequential reads of one segment (fd borrowed) through a window, so that neither the whole file
// nor a record length taken from the file decides how much is allocated at once.
class SegmentFile {
 public:
  SegmentFile(int fd, uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;

  uint64_t size() const { return size_; }
  // The layout its records are parsed with, from its header (kSegmentVersion until then).
  void set_version(uint32_t version) { version_ = version; }

  // Up to n bytes at off (fewer at the end of the file). Valid until the next call.
  Result<std::string_view> read_at(uint64_t off, size_t n) {
    if (off >= size_) {
      return std::string_view();
    }
    n = static_cast<size_t>(std::min<uint64_t>(n, size_ - off));
    if (off < start_ || off + n > start_ + window_.size()) {
      size_t len = static_cast<size_t>(std::min<uint64_t>(std::max(n, kReadChunk), size_ - off));
      window_.resize(len);
      size_t got = 0;
      while (got < len) {
        ssize_t r = ::pread(fd_, window_.data() + got, len - got, static_cast<off_t>(off + got));
        if (r < 0 && errno == EINTR) {
          continue;
        }
        if (r < 0) {
          return posix_status("read '" + path_ + "'", errno);
        }
        if (r == 0) {
          break;  // shrank under us; treat the rest as absent
        }
        got += static_cast<size_t>(r);
      }
      window_.resize(got);
      start_ = off;
      n = std::min(n, got);
    }
    return std::string_view(window_).substr(static_cast<size_t>(off - start_), n);
  }

  // The result of check_frame for the record at off, reading as much as its length asks for.
  Result<fmt::FrameResult> check_at(uint64_t off) {
    Result<std::string_view> head = read_at(off, fmt::kRecordHeaderSize);
    if (!head.is_ok()) {
      return head.status();
    }
    fmt::FrameResult first = fmt::check_frame(head.value(), version_);
    if (first.check != fmt::FrameCheck::kTruncated || head->size() < fmt::kRecordHeaderSize) {
      return first;
    }
    uint64_t length = load_u32(head->data() + 4);  // bounded by check_frame above
    Result<std::string_view> frame = read_at(off, fmt::kRecordHeaderSize + length);
    if (!frame.is_ok()) {
      return frame.status();
    }
    return fmt::check_frame(frame.value(), version_);
  }

  // The offset of the next record at or after from that verifies; size() if there is none.
  Result<uint64_t> find_next_valid(uint64_t from) {
    char magic[4];
    store_u32(magic, fmt::kRecordMagic);
    std::string_view needle(magic, 4);
    uint64_t pos = from;
    while (pos + fmt::kRecordHeaderSize <= size_) {
      Result<std::string_view> chunk = read_at(pos, kReadChunk);
      if (!chunk.is_ok()) {
        return chunk.status();
      }
      size_t hit = chunk->find(needle);
      if (hit == std::string_view::npos) {
        if (chunk->size() < 4) {
          break;
        }
        pos += chunk->size() - 3;  // the magic may straddle chunks
        continue;
      }
      uint64_t candidate = pos + hit;
      Result<fmt::FrameResult> frame = check_at(candidate);
      if (!frame.is_ok()) {
        return frame.status();
      }
      if (frame->check == fmt::FrameCheck::kOk) {
        return candidate;
      }
      pos = candidate + 1;
    }
    return size_;
  }

 private:
  int fd_;
  uint64_t size_;
  std::string path_;
  std::string window_;
  uint64_t start_ = 0;
  uint32_t version_ = fmt::kSegmentVersion;
};

Result<std::vector<std::pair<uint64_t, std::string>>> list_segments(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return posix_status("open directory '" + dir + "'", errno);
  }
  std::vector<std::pair<uint64_t, std::string>> names;
  while (struct dirent* entry = ::readdir(d)) {
    uint64_t first_seq = 0;
    if (fmt::parse_segment_file_name(entry->d_name, first_seq)) {
      names.emplace_back(first_seq, entry->d_name);
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

struct ScanState {
  RecoveryReport& report;
  uint64_t last_seq = 0;
  // The record of last_seq, if it is chained: where the chain continues.
  std::optional<ChainHead> head;
  // source_id → (seq, position) of the newest record that mentions it.
  std::map<std::string, std::pair<uint64_t, SourcePosition>> newest;
};

void note_problem(ScanState& state, const std::string& name, uint64_t offset,
                  const std::string& what, uint64_t skipped) {
  ++state.report.corrupt_records;
  state.report.skipped_bytes += skipped;
  state.report.problems.push_back(name + ": offset " + std::to_string(offset) + ": " + what +
                                  "; skipped " + std::to_string(skipped) + " bytes");
}

// Scans one segment into seg; returns the offset where a torn tail starts (size if none).
Result<uint64_t> scan_one(SegmentFile& file, const std::string& name, ScannedSegment& seg,
                          ScanState& state) {
  uint64_t size = file.size();
  Result<std::string_view> head = file.read_at(0, fmt::kSegmentHeaderSize);
  if (!head.is_ok()) {
    return head.status();
  }
  uint32_t version = fmt::kSegmentVersion;
  Status header = fmt::check_segment_header(head.value(), &version);
  if (size < fmt::kSegmentHeaderSize) {
    note_problem(state, name, 0, "torn segment header", size);
    return uint64_t{0};
  }
  uint64_t off = fmt::kSegmentHeaderSize;
  if (!header.is_ok()) {
    // Its records are tried in the current layout: a damaged header says nothing about them.
    note_problem(state, name, 0, header.message(), fmt::kSegmentHeaderSize);
  }
  file.set_version(version);
  seg.version = version;
  while (off < size) {
    Result<fmt::FrameResult> frame = file.check_at(off);
    if (!frame.is_ok()) {
      return frame.status();
    }
    if (frame->check == fmt::FrameCheck::kOk) {
      Result<BufferRecord> record = fmt::decode_record_body(frame->body, version);
      // check_frame parsed this body already; it cannot fail now.
      ASSAS_CHECK(record.is_ok(), "a verified record body decodes");
      uint64_t seq = record->seq;
      if (seq <= state.last_seq || seq < seg.first_seq) {
        note_problem(state, name, off, "record seq " + std::to_string(seq) + " is out of order",
                     frame->frame_bytes);
      } else {
        seg.records.push_back(
            {seq, off, static_cast<uint32_t>(frame->frame_bytes), record->event_count});
        state.last_seq = seq;
        state.head.reset();
        if ((record->chain.flags & transport::BatchChain::kChained) != 0) {
          state.head = ChainHead{seq, record->link};
        }
        for (auto& [source_id, position] : record->positions) {
          state.newest[source_id] = {seq, std::move(position)};
        }
      }
      off += frame->frame_bytes;
      continue;
    }
    Result<uint64_t> next = file.find_next_valid(off + 1);
    if (!next.is_ok()) {
      return next.status();
    }
    bool torn = frame->check == fmt::FrameCheck::kTruncated && next.value() == size;
    note_problem(state, name, off, std::string(torn ? "torn tail: " : "corrupt: ") + frame->why,
                 next.value() - off);
    if (torn) {
      return off;
    }
    off = next.value();
  }
  return size;
}

}  // namespace

Result<ScanResult> scan_segments(const std::string& dir) {
  Result<std::vector<std::pair<uint64_t, std::string>>> names = list_segments(dir);
  if (!names.is_ok()) {
    return names.status();
  }
  ScanResult result;
  ScanState state{result.report, 0, std::nullopt, {}};
  for (const auto& [first_seq, name] : names.value()) {
    std::string path = dir + "/" + name;
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      return posix_status("open segment '" + path + "'", errno);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      Status s = posix_status("stat segment '" + path + "'", errno);
      ::close(fd);
      return s;
    }
    if ((st.st_mode & 077) != 0 && ::fchmod(fd, 0600) != 0) {  // state files are private
      Status s = posix_status("chmod 0600 segment '" + path + "'", errno);
      ::close(fd);
      return s;
    }
    ScannedSegment seg{
        path, first_seq, static_cast<uint64_t>(st.st_size), fmt::kSegmentVersion, {}};
    // name is a structured binding, which clang 14 (the fuzz build) cannot capture implicitly.
    Result<uint64_t> good_end = [&, &segment_name = name] {
      SegmentFile file(fd, seg.file_bytes, path);
      return scan_one(file, segment_name, seg, state);
    }();
    Status s = good_end.status();
    if (s.is_ok() && seg.records.empty()) {
      state.report.problems.push_back(name + ": no valid record; removed the segment");
      if (::unlink(path.c_str()) != 0) {
        s = posix_status("remove empty segment '" + path + "'", errno);
      }
    } else if (s.is_ok() && good_end.value() < seg.file_bytes) {
      // Cut the torn tail off, so it is not reported again; the segment stays read-only.
      if (::ftruncate(fd, static_cast<off_t>(good_end.value())) != 0 || ::fsync(fd) != 0) {
        s = posix_status("truncate the torn tail of '" + path + "'", errno);
      }
      seg.file_bytes = good_end.value();
    }
    ::close(fd);
    ASSAS_RETURN_IF_ERROR(s);
    if (!seg.records.empty()) {
      result.report.records += seg.records.size();
      result.segments.push_back(std::move(seg));
    }
  }
  result.report.last_seq = state.last_seq;
  result.report.chain_head = state.head;
  std::map<uint64_t, BatchPositions> by_seq;
  for (auto& [source_id, newest] : state.newest) {
    by_seq[newest.first].emplace_back(source_id, std::move(newest.second));
  }
  for (auto& [seq, positions] : by_seq) {
    result.report.positions_by_seq.emplace_back(seq, std::move(positions));
  }
  if (!result.segments.empty() || !names->empty()) {
    ASSAS_RETURN_IF_ERROR(fsync_dir(dir));  // the removals above must not come back
  }
  return result;
}

}  // namespace assas::agent
