#include "agent/health.h"

#include <catch2/catch.hpp>

namespace assas::agent {

using namespace std::chrono_literals;

TEST_CASE("healthy while reading flows and every output had a session recently", "[health]") {
  HealthInputs in;
  in.buffer_bytes = 4096;
  in.oldest_unacked_age_seconds = 3;
  in.outputs = {{"soc", true, 0}, {"backup", false, 30}};
  HealthReport report = evaluate_health(in, 60s);
  CHECK(report.healthy);
  CHECK(report.reasons.empty());
  CHECK(health_json(in, report) ==
        "{\"status\":\"ok\",\"reasons\":[],\"buffer_bytes\":4096,"
        "\"oldest_unacked_age_seconds\":3,\"outputs\":["
        "{\"name\":\"soc\",\"connected\":true,\"seconds_without_session\":0},"
        "{\"name\":\"backup\",\"connected\":false,\"seconds_without_session\":30}]}\n");
}

TEST_CASE("an output without a session past output_down_after is unhealthy and named", "[health]") {
  HealthInputs in;
  in.outputs = {{"soc", true, 0}, {"backup", false, 61}};
  HealthReport report = evaluate_health(in, 60s);
  CHECK_FALSE(report.healthy);
  REQUIRE(report.reasons.size() == 1);
  CHECK(report.reasons[0].find("'backup'") != std::string::npos);
  CHECK(health_json(in, report)
            .rfind("{\"status\":\"unhealthy\",\"reasons\":[\"output 'backup'", 0) == 0);
  // Exactly at the limit is not yet past it.
  in.outputs[1].seconds_without_session = 60;
  CHECK(evaluate_health(in, 60s).healthy);
}

TEST_CASE("reading paused for a full buffer is unhealthy", "[health]") {
  HealthInputs in;
  in.reading_paused_full = true;
  in.outputs = {{"soc", true, 0}};
  HealthReport report = evaluate_health(in, 60s);
  CHECK_FALSE(report.healthy);
  REQUIRE(report.reasons.size() == 1);
  CHECK(report.reasons[0].find("disk buffer") != std::string::npos);
}

TEST_CASE("names are escaped in the health JSON", "[health]") {
  HealthInputs in;
  in.outputs = {{"a\"b\\c", false, 0}};
  std::string json = health_json(in, evaluate_health(in, 60s));
  CHECK(json.find("\"name\":\"a\\\"b\\\\c\"") != std::string::npos);
}

}  // namespace assas::agent
