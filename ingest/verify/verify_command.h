#pragma once

// `assas-ingest verify`: re-checks the hash chain of stored events from the files alone
// (docs/integrity.md, "At rest"). Prints one line per finding and a summary to stdout.

#include <string>
#include <vector>

namespace assas::ingest {

struct VerifyOptions {
  // Each: an agent's directory, a data directory holding agents' directories, or an agent name
  // (looked up under data_dir).
  std::vector<std::string> paths;
  std::string data_dir = "/var/lib/assas-ingest";
  std::string ca_file;  // if set, the stored certificates must chain to it
};

// Exit status: 0 everything verifies; 1 something stored was altered, removed, inserted, reordered
// or wrongly signed; 2 it could not run; 3 intact, but gaps or breaks were recorded on receipt.
int run_verify(const VerifyOptions& options);

}  // namespace assas::ingest
