// Write failures, injected with RLIMIT_FSIZE: a write past the limit fails with EFBIG (SIGXFSZ is
// ignored for the test), which is what a full disk looks like to the buffer.

#include <filesystem>
#include <optional>

#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <signal.h>

#include "agent/buffer/disk_buffer.h"
#include "agent/buffer/segment_format.h"
#include "buffer_test_support.h"
#include "tests/support/temp_dir.h"

namespace assas::agent {
namespace {

// Sets the file size limit for its lifetime.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    REQUIRE(getrlimit(RLIMIT_FSIZE, &old_) == 0);
    struct rlimit limit = old_;
    limit.rlim_cur = bytes;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &limit) == 0);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  struct rlimit old_ {};
  sighandler_t old_handler_;
};

}  // namespace

TEST_CASE(
    "a failed write fails its append and those queued behind and the seq can be appended again",
    "[buffer]") {
  assas::test::TempDir tmp;
  test::LoopHarness h;
  DiskBufferOptions options;
  options.dir = tmp.file("buffer");
  auto buffer = h.open(options);
  REQUIRE(h.append(*buffer, test::make_record(1)).is_ok());
  uint64_t size_before = buffer->size_bytes();
  std::vector<Status> results;
  {
    FileSizeLimit limit(4096);
    for (uint64_t seq = 2; seq <= 4; ++seq) {
      buffer->append(test::make_record(seq, seq == 2 ? 8000 : 40),
                     [&](const Status& s) { results.push_back(s); });
    }
    test::run_until(h.loop(), [&] { return results.size() == 3; });
  }
  for (const Status& s : results) {
    REQUIRE_FALSE(s.is_ok());
  }
  REQUIRE(buffer->last_seq() == 1);
  REQUIRE(buffer->durable_seq() == 1);
  REQUIRE(buffer->size_bytes() == size_before);
  REQUIRE(h.read_after(*buffer, 1).status().code() == StatusCode::kNotFound);
  REQUIRE(h.append(*buffer, test::make_record(2)).is_ok());
  h.close(buffer);

  buffer = h.open(options);
  REQUIRE(buffer->recovery().records == 2);
  REQUIRE(buffer->recovery().corrupt_records == 0);
  REQUIRE(buffer->last_seq() == 2);
  Result<BufferRecord> r = h.read_after(*buffer, 1);
  REQUIRE(r.is_ok());
  REQUIRE(*r->payload == *test::make_record(2).payload);
  h.close(buffer);
  h.finish();
}

// The newest segment is deleted when everything in it is released and the disk refuses writes; an
// acknowledgement that lands while the failing write is still on the Worker must not be lost for
// that purpose, or every later append fails against the same full segment (a flaky stall of the
// full-disk fault test).
TEST_CASE("a release during a failing write still frees the newest segment for the retry",
          "[buffer]") {
  assas::test::TempDir tmp;
  test::LoopHarness h;
  DiskBufferOptions options;
  options.dir = tmp.file("buffer");
  auto buffer = h.open(options);
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    REQUIRE(h.append(*buffer, test::make_record(seq, 2000)).is_ok());
  }
  {
    FileSizeLimit limit(4096);  // the one segment already holds more: any write to it fails
    std::optional<Status> failed;
    buffer->append(test::make_record(4), [&](const Status& s) { failed = s; });
    buffer->release(3);  // the write is on the Worker now
    test::run_until(h.loop(), [&] { return failed.has_value(); });
    REQUIRE_FALSE(failed->is_ok());
    // The retry. Here it would fit into a fresh segment anyway (RLIMIT_FSIZE is per file); on a
    // full disk only the space of the released segment lets it in, so that segment must be gone.
    REQUIRE(h.append(*buffer, test::make_record(4)).is_ok());
  }
  REQUIRE_FALSE(std::filesystem::exists(options.dir + "/" + segment_format::segment_file_name(1)));
  REQUIRE(buffer->durable_seq() == 4);
  h.close(buffer);
  h.finish();
}

}  // namespace assas::agent
