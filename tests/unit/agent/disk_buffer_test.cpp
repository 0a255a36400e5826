#include "agent/buffer/disk_buffer.h"

#include <algorithm>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <dirent.h>

#include "agent/buffer/segment_format.h"
#include "buffer_test_support.h"
#include "tests/support/temp_dir.h"

namespace assas::agent {
namespace {

using test::LoopHarness;
using test::make_record;

std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  REQUIRE(d != nullptr);
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 4 && name.substr(name.size() - 4) == ".seg") {
      names.push_back(dir + "/" + name);
    }
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

DiskBufferOptions options_in(const assas::test::TempDir& tmp) {
  DiskBufferOptions options;
  options.dir = tmp.file("buffer");
  return options;
}

void require_same(const BufferRecord& got, const BufferRecord& want) {
  REQUIRE(got.seq == want.seq);
  REQUIRE(got.event_count == want.event_count);
  REQUIRE(got.raw_size == want.raw_size);
  REQUIRE(got.codec == want.codec);
  REQUIRE(got.positions == want.positions);
  REQUIRE(*got.payload == *want.payload);
}

}  // namespace

TEST_CASE("appends complete once each, in order, and read back until released", "[buffer]") {
  uint64_t cache_bytes = GENERATE(uint64_t{0}, uint64_t{8} << 20);  // disk reads and cache hits
  assas::test::TempDir tmp;
  LoopHarness h;
  DiskBufferOptions options = options_in(tmp);
  options.cache_bytes = cache_bytes;
  auto buffer = h.open(options);
  std::vector<uint64_t> completed;
  for (uint64_t seq = 1; seq <= 10; ++seq) {
    buffer->append(make_record(seq), [&, seq](const Status& s) {
      REQUIRE(s.is_ok());
      completed.push_back(seq);
    });
  }
  REQUIRE(buffer->last_seq() == 10);
  REQUIRE(buffer->record_count() == 10);
  test::run_until(h.loop(), [&] { return completed.size() == 10; });
  REQUIRE(completed == std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  REQUIRE(buffer->durable_seq() == 10);
  for (uint64_t after = 0; after < 10; ++after) {
    Result<BufferRecord> r = h.read_after(*buffer, after);
    REQUIRE(r.is_ok());
    require_same(r.value(), make_record(after + 1));
  }
  REQUIRE(h.read_after(*buffer, 10).status().code() == StatusCode::kNotFound);
  buffer->release(5);
  REQUIRE(buffer->first_seq() == 6);
  REQUIRE(buffer->record_count() == 5);
  Result<BufferRecord> r = h.read_after(*buffer, 0);
  REQUIRE(r.is_ok());
  REQUIRE(r->seq == 6);
  buffer->release(10);
  REQUIRE(buffer->first_seq() == 0);
  REQUIRE(h.read_after(*buffer, 0).status().code() == StatusCode::kNotFound);
  h.close(buffer);
  REQUIRE(completed.size() == 10);
  h.finish();
}

TEST_CASE("a reopened buffer recovers every record and appends to a new segment", "[buffer]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  DiskBufferOptions options = options_in(tmp);
  options.segment_size_bytes = 300;
  auto buffer = h.open(options);
  for (uint64_t seq = 1; seq <= 20; ++seq) {
    REQUIRE(h.append(*buffer, make_record(seq, 40, "file:" + std::to_string(seq % 3))).is_ok());
  }
  h.close(buffer);
  size_t segments = segment_files(options.dir).size();
  REQUIRE(segments > 3);

  buffer = h.open(options);
  const RecoveryReport& report = buffer->recovery();
  REQUIRE(report.records == 20);
  REQUIRE(report.corrupt_records == 0);
  REQUIRE(report.skipped_bytes == 0);
  REQUIRE(report.last_seq == 20);
  REQUIRE(buffer->last_seq() == 20);
  REQUIRE(buffer->durable_seq() == 20);
  REQUIRE(buffer->first_seq() == 1);
  // The newest record of each of the three sources: seqs 18, 19, 20.
  REQUIRE(report.positions_by_seq.size() == 3);
  REQUIRE(report.positions_by_seq[0].first == 18);
  REQUIRE(report.positions_by_seq[2].first == 20);
  REQUIRE(report.positions_by_seq[2].second[0].second.offset == 2000);
  for (uint64_t after = 0; after < 20; ++after) {
    Result<BufferRecord> r = h.read_after(*buffer, after);
    REQUIRE(r.is_ok());
    require_same(r.value(), make_record(after + 1, 40, "file:" + std::to_string((after + 1) % 3)));
  }
  REQUIRE(h.append(*buffer, make_record(21)).is_ok());
  REQUIRE(segment_files(options.dir).size() == segments + 1);
  h.close(buffer);
  h.finish();
}

TEST_CASE("a torn tail record is counted and skipped, never fed on", "[buffer]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  DiskBufferOptions options = options_in(tmp);
  auto buffer = h.open(options);
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    REQUIRE(h.append(*buffer, make_record(seq)).is_ok());
  }
  h.close(buffer);
  std::vector<std::string> files = segment_files(options.dir);
  REQUIRE(files.size() == 1);
  std::string original = assas::test::read_text_file(files[0]);
  size_t last = original.size() - segment_format::encoded_record_size(make_record(3));
  for (size_t cut = last; cut < original.size(); ++cut) {
    CAPTURE(cut);
    assas::test::write_text_file(files[0], original.substr(0, cut));
    buffer = h.open(options);
    const RecoveryReport& report = buffer->recovery();
    REQUIRE(report.records == 2);
    REQUIRE(report.last_seq == 2);
    REQUIRE(report.corrupt_records == (cut == last ? 0U : 1U));
    REQUIRE(report.skipped_bytes == cut - last);
    REQUIRE(h.read_after(*buffer, 2).status().code() == StatusCode::kNotFound);
    h.close(buffer);
  }
  // The tear was cut off: seq 3 can be appended again and everything reopens clean.
  buffer = h.open(options);
  REQUIRE(h.append(*buffer, make_record(3)).is_ok());
  h.close(buffer);
  buffer = h.open(options);
  REQUIRE(buffer->recovery().records == 3);
  REQUIRE(buffer->recovery().corrupt_records == 0);
  h.close(buffer);
  h.finish();
}

TEST_CASE("a flipped byte in a middle record is reported with its offset and later ones survive",
          "[buffer]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  DiskBufferOptions options = options_in(tmp);
  auto buffer = h.open(options);
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    REQUIRE(h.append(*buffer, make_record(seq)).is_ok());
  }
  h.close(buffer);
  std::string file = segment_files(options.dir)[0];
  std::string bytes = assas::test::read_text_file(file);
  size_t third = segment_format::kSegmentHeaderSize +
                 segment_format::encoded_record_size(make_record(1)) +
                 segment_format::encoded_record_size(make_record(2));
  size_t record_bytes = segment_format::encoded_record_size(make_record(3));
  bytes[third + record_bytes / 2] ^= 0x10;
  assas::test::write_text_file(file, bytes);

  buffer = h.open(options);
  const RecoveryReport& report = buffer->recovery();
  REQUIRE(report.records == 4);
  REQUIRE(report.corrupt_records == 1);
  REQUIRE(report.skipped_bytes == record_bytes);
  REQUIRE(report.problems.size() == 1);
  CAPTURE(report.problems[0]);
  REQUIRE(report.problems[0].find("offset " + std::to_string(third) + ":") != std::string::npos);
  REQUIRE(report.problems[0].find(segment_format::segment_file_name(1)) != std::string::npos);
  Result<BufferRecord> r = h.read_after(*buffer, 2);
  REQUIRE(r.is_ok());
  REQUIRE(r->seq == 4);
  h.close(buffer);
  h.finish();
}

TEST_CASE("release deletes fully released segments but keeps the newest", "[buffer]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  DiskBufferOptions options = options_in(tmp);
  options.segment_size_bytes = 1;  // one record per segment
  auto buffer = h.open(options);
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    REQUIRE(h.append(*buffer, make_record(seq)).is_ok());
  }
  REQUIRE(segment_files(options.dir).size() == 5);
  auto segment_bytes = [](uint64_t seq) {
    return segment_format::kSegmentHeaderSize +
           segment_format::encoded_record_size(make_record(seq));
  };
  buffer->release(3);
  REQUIRE(buffer->size_bytes() == segment_bytes(4) + segment_bytes(5));
  buffer->release(5);
  REQUIRE(buffer->size_bytes() == segment_bytes(5));
  REQUIRE(buffer->record_count() == 0);
  h.close(buffer);  // waits for the unlinks on the worker
  std::vector<std::string> files = segment_files(options.dir);
  REQUIRE(files.size() == 1);
  REQUIRE(files[0] == options.dir + "/" + segment_format::segment_file_name(5));
  buffer = h.open(options);
  REQUIRE(buffer->last_seq() == 5);  // the newest segment keeps the highest seq across restarts
  h.close(buffer);
  h.finish();
}

// A reload that points an output at another receiver restarts the agent's parts: batches the old
// receiver acknowledged must not be offered to the new one.
TEST_CASE("a clean close remembers what was released and a reopen does not offer it again",
          "[buffer]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  DiskBufferOptions options = options_in(tmp);
  auto buffer = h.open(options);
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    REQUIRE(h.append(*buffer, make_record(seq)).is_ok());
  }
  buffer->release(3);
  uint64_t stream_id = buffer->stream_id();
  h.close(buffer);

  buffer = h.open(options);
  REQUIRE(buffer->recovery().records == 5);  // all still in the one segment
  REQUIRE(buffer->record_count() == 2);
  Result<BufferRecord> first = h.read_after(*buffer, 0);
  REQUIRE(first.is_ok());
  REQUIRE(first->seq == 4);
  REQUIRE(buffer->last_seq() == 5);
  h.close(buffer);

  // Of another stream (a buffer directory put back together by hand) or damaged: ignored, so at
  // worst a batch is sent twice, never skipped.
  for (const std::string& text :
       {std::string("0123456789abcdef 3\n"), std::string("garbage"), std::string("")}) {
    assas::test::write_text_file(options.dir + "/released_upto", text);
    buffer = h.open(options);
    CHECK(buffer->record_count() == 5);
    h.close(buffer);
  }
  REQUIRE(stream_id != 0x0123456789abcdefULL);
  h.finish();
}

TEST_CASE("a fully released newest segment is deleted when the buffer is past half its size",
          "[buffer]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  DiskBufferOptions options = options_in(tmp);
  options.max_size_bytes = 1000;  // below one segment: everything is in the newest one
  auto buffer = h.open(options);
  for (uint64_t seq = 1; seq <= 10; ++seq) {
    REQUIRE(h.append(*buffer, make_record(seq)).is_ok());
  }
  REQUIRE(segment_files(options.dir).size() == 1);
  REQUIRE_FALSE(buffer->has_room(600));
  buffer->release(10);
  test::run_until(h.loop(), [&] { return buffer->size_bytes() == 0; });
  REQUIRE(buffer->has_room(600));
  REQUIRE(segment_files(options.dir).empty());
  REQUIRE(assas::test::read_text_file(options.dir + "/last_seq") == "10\n");
  h.close(buffer);
  buffer = h.open(options);  // no segment left: the seqs still go on from where they were
  REQUIRE(buffer->last_seq() == 10);
  REQUIRE(h.append(*buffer, make_record(11)).is_ok());  // into a new segment
  REQUIRE(segment_files(options.dir).size() == 1);
  h.close(buffer);
  h.finish();
}

TEST_CASE("has_room bounds the size, counting appends in flight and an empty buffer takes anything",
          "[buffer]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  DiskBufferOptions options = options_in(tmp);
  options.max_size_bytes = 1000;
  auto buffer = h.open(options);
  REQUIRE(buffer->size_bytes() == 0);
  REQUIRE(buffer->has_room(1'000'000));
  bool durable = false;
  BufferRecord record = make_record(1, 300);
  uint64_t bytes = segment_format::encoded_record_size(record);
  buffer->append(record, [&](const Status& s) { durable = s.is_ok(); });
  REQUIRE(buffer->size_bytes() == bytes);  // in flight counts
  REQUIRE_FALSE(buffer->has_room(1000 - bytes + 1));
  REQUIRE(buffer->has_room(1000 - bytes - segment_format::kSegmentHeaderSize));
  test::run_until(h.loop(), [&] { return durable; });
  REQUIRE(buffer->size_bytes() == bytes + segment_format::kSegmentHeaderSize);
  REQUIRE_FALSE(buffer->has_room(1000));
  buffer->release(1);
  REQUIRE(buffer->has_room(1000));  // empty again, even though the newest segment stays
  h.close(buffer);
  h.finish();
}

TEST_CASE("the stream id is random, stable across reopen, and buffer files are private",
          "[buffer]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  DiskBufferOptions options = options_in(tmp);
  auto buffer = h.open(options);
  uint64_t id = buffer->stream_id();
  REQUIRE(id != 0);
  REQUIRE(h.append(*buffer, make_record(1)).is_ok());
  h.close(buffer);
  REQUIRE(mode_of(options.dir) == 0700);
  REQUIRE(mode_of(options.dir + "/stream_id") == 0600);
  for (const std::string& file : segment_files(options.dir)) {
    REQUIRE(mode_of(file) == 0600);
  }
  buffer = h.open(options);
  REQUIRE(buffer->stream_id() == id);
  h.close(buffer);
  DiskBufferOptions other = options;
  other.dir = tmp.file("other");
  auto second = h.open(other);
  REQUIRE(second->stream_id() != id);
  h.close(second);

  assas::test::write_text_file(options.dir + "/stream_id", "not hex\n");
  Result<std::unique_ptr<DiskBuffer>> bad = DiskBuffer::open(h.loop(), h.worker(), options);
  REQUIRE_FALSE(bad.is_ok());
  REQUIRE(bad.status().message().find("remove it") != std::string::npos);
  h.finish();
}

}  // namespace assas::agent
