#include "agent/metrics_text.h"

#include <chrono>

#include <catch2/catch.hpp>

#include "agent/latency_histogram.h"

namespace assas::agent {

using namespace std::chrono_literals;

TEST_CASE("a histogram renders cumulative buckets with +Inf then sum and count", "[metrics]") {
  LatencyHistogram h;
  h.observe(3ms);    // le 0.005
  h.observe(5ms);    // le 0.005: a bound is inclusive
  h.observe(200ms);  // le 0.25
  h.observe(200s);   // only +Inf
  MetricsText m;
  m.family("assas_output_ack_latency_seconds", "histogram", "Ack latency.");
  m.histogram(LatencyHistogram::kBounds, h.counts(), h.sum_seconds(), {{"output", "soc"}});
  const std::string& text = m.text();
  CHECK(text.find("# TYPE assas_output_ack_latency_seconds histogram\n") != std::string::npos);
  CHECK(text.find("assas_output_ack_latency_seconds_bucket{output=\"soc\",le=\"0.005\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("assas_output_ack_latency_seconds_bucket{output=\"soc\",le=\"0.1\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("assas_output_ack_latency_seconds_bucket{output=\"soc\",le=\"0.25\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("assas_output_ack_latency_seconds_bucket{output=\"soc\",le=\"120\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("assas_output_ack_latency_seconds_bucket{output=\"soc\",le=\"+Inf\"} 4\n") !=
        std::string::npos);
  CHECK(text.find("assas_output_ack_latency_seconds_sum{output=\"soc\"} 200.20") !=
        std::string::npos);
  CHECK(text.find("assas_output_ack_latency_seconds_count{output=\"soc\"} 4\n") !=
        std::string::npos);
}

TEST_CASE("an empty histogram has every bucket at zero", "[metrics]") {
  LatencyHistogram h;
  MetricsText m;
  m.family("x_seconds", "histogram", "X.");
  m.histogram(LatencyHistogram::kBounds, h.counts(), h.sum_seconds());
  CHECK(m.text().find("x_seconds_bucket{le=\"+Inf\"} 0\nx_seconds_sum 0\nx_seconds_count 0\n") !=
        std::string::npos);
}

TEST_CASE("merged histograms add their buckets and sums", "[metrics]") {
  LatencyHistogram a;
  LatencyHistogram b;
  a.observe(1s);
  b.observe(2s);
  a.merge(b);
  CHECK(a.counts()[7] == 1);  // le 1
  CHECK(a.counts()[8] == 1);  // le 2.5
  CHECK(a.sum_seconds() == Approx(3.0));
}

}  // namespace assas::agent
