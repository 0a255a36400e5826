#include "ingest/verify/verify_command.h"

#include <cstdio>

namespace assas::ingest {

int run_verify(const VerifyOptions& options) {
  (void)options;
  std::fprintf(stderr, "assas-ingest verify: not built yet\n");
  return 2;
}

}  // namespace assas::ingest
