// assas-ingest's counters and their Prometheus text.

#include "ingest/ingest_stats.h"

#include <catch2/catch.hpp>

namespace assas::ingest {

TEST_CASE("a batch with several status words counts under each and once as a break", "[metrics]") {
  StoreCounts counts;
  counts.count_status("break-link+break-signature");
  counts.count_status("ok");
  counts.count_status("gap");
  StoreCounts totals;
  totals.add(counts);
  totals.add(counts);
  std::string text = render_ingest_metrics(totals);
  REQUIRE_THAT(text,
               Catch::Contains("assas_ingest_chain_batches_total{status=\"break-link\"} 2\n"));
  REQUIRE_THAT(text,
               Catch::Contains("assas_ingest_chain_batches_total{status=\"break-signature\"} 2\n"));
  REQUIRE_THAT(text, Catch::Contains("assas_ingest_chain_batches_total{status=\"ok\"} 2\n"));
  REQUIRE_THAT(text, Catch::Contains("assas_ingest_chain_batches_total{status=\"gap\"} 2\n"));
  REQUIRE_THAT(text, Catch::Contains("assas_ingest_chain_breaks_total 2\n"));
}

TEST_CASE("every ingest series is present from the start", "[metrics]") {
  std::string text = render_ingest_metrics(StoreCounts{});
  for (const char* line :
       {"# TYPE assas_ingest_batches_stored_total counter\nassas_ingest_batches_stored_total 0\n",
        "assas_ingest_events_stored_total 0\n", "assas_ingest_duplicate_batches_total 0\n",
        "assas_ingest_chain_batches_total{status=\"break-missing\"} 0\n",
        "assas_ingest_chain_batches_total{status=\"unchained\"} 0\n",
        "assas_ingest_chain_breaks_total 0\n",
        "assas_ingest_chain_signatures_total{result=\"ok\"} 0\n",
        "assas_ingest_chain_signatures_total{result=\"bad\"} 0\n"}) {
    REQUIRE_THAT(text, Catch::Contains(line));
  }
}

}  // namespace assas::ingest
