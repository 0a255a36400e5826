// Chain-file records (ingest/chain_record.h): what `assas-ingest verify` reads from a SOC's disk,
// where whoever tampered with the evidence may have written anything. The input is one line.
// Properties: parsing never reads past the line or allocates more fingerprints than the line
// holds digits for; a record that parses has a status verify understands and one fingerprint per
// event; and it writes back (append_chain_record) to exactly the line it came from, so that each
// record has one spelling and an edited one cannot pass for the original.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/chain_record.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  assas::Result<assas::ingest::ChainRecord> record = assas::ingest::parse_chain_record(line, 4096);
  if (!record.is_ok()) {
    ASSAS_FUZZ_CHECK(record.status().code() == assas::StatusCode::kCorruption);
    return 0;
  }
  ASSAS_FUZZ_CHECK(record->fingerprints.size() == record->events);
  ASSAS_FUZZ_CHECK(record->events <= 4096);
  ASSAS_FUZZ_CHECK(record->line >= 1);
  ASSAS_FUZZ_CHECK(!record->status.empty());
  std::string written;
  assas::ingest::append_chain_record(written, *record);
  ASSAS_FUZZ_CHECK(!written.empty() && written.back() == '\n');
  written.pop_back();
  ASSAS_FUZZ_CHECK(written == line);
  return 0;
}
