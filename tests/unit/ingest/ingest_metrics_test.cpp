// assas-ingest's metrics: what store jobs commit reaches the service's totals on the loop, and
// the endpoint serves them.

#include "ingest/ingest_metrics.h"

#include <functional>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "ingest/ingest_service.h"
#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"
#include "transport/protocol/batch_codec.h"
#include "transport/protocol/chain.h"
#include "transport/protocol/compression.h"

namespace assas::ingest {
namespace {

// A chained batch of one event continuing (prev_seq, prev_link); link receives its link.
ReceivedBatch chained(uint64_t seq, uint64_t prev_seq, const transport::Digest& prev_link,
                      transport::Digest& link) {
  transport::BatchEncoder encoder;
  uint32_t stream = encoder.add_stream("files", "/var/log/app.log", {});
  encoder.add_event(1, stream, seq, "line " + std::to_string(seq));
  std::string raw = encoder.finish("host-1");
  Result<transport::BatchContent> content = transport::hash_batch(raw, 10);
  REQUIRE(content.is_ok());
  link = transport::chain_link(seq, prev_seq, prev_link, content->events, content->content);
  ReceivedBatch batch;
  transport::Compressor compressor(3);
  REQUIRE(compressor.compress(transport::Codec::kZstd, raw, batch.payload).is_ok());
  batch.seq = seq;
  batch.event_count = 1;
  batch.raw_size = static_cast<uint32_t>(raw.size());
  batch.chain.flags = transport::BatchChain::kChained;
  batch.chain.prev_seq = prev_seq;
  batch.chain.prev_link = prev_link;
  return batch;
}

}  // namespace

TEST_CASE("what the store jobs commit is counted in the service's totals", "[metrics]") {
  assas::test::TempDir dir;
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    ServiceOptions options;
    options.data_dir = dir.path();
    IngestService service(&loop, options);
    AgentChannel& channel = service.channel_for("web-01");
    transport::Digest one{};
    transport::Digest two{};
    transport::Digest ignored{};
    channel.enqueue(7, chained(1, 0, transport::Digest{}, one));
    channel.enqueue(7, chained(2, 1, one, two));
    channel.enqueue(7, chained(2, 1, one, two));  // a resend
    transport::Digest wrong = two;
    wrong[5] ^= 1;
    channel.enqueue(7, chained(3, 2, wrong, ignored));
    int idle_calls = 0;
    service.when_idle([&] { ++idle_calls; });
    REQUIRE(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    REQUIRE(idle_calls == 1);
    const StoreCounts& totals = service.totals();
    REQUIRE(totals.batches == 3);
    REQUIRE(totals.events == 3);
    REQUIRE(totals.duplicates == 1);
    REQUIRE(totals.chain_breaks == 1);
    std::string text = service.metrics_text();
    REQUIRE_THAT(
        text, Catch::Contains("assas_ingest_chain_batches_total{status=\"start\"} 1\n") &&
                  Catch::Contains("assas_ingest_chain_batches_total{status=\"ok\"} 1\n") &&
                  Catch::Contains("assas_ingest_chain_batches_total{status=\"break-link\"} 1\n") &&
                  Catch::Contains("assas_ingest_batches_stored_total 3\n"));
  }
  REQUIRE(uv_loop_close(&loop) == 0);
}

TEST_CASE("the ingest metrics endpoint serves GET /metrics and 404 elsewhere", "[metrics]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  IngestMetricsOptions options;
  options.enabled = true;
  options.listen = transport::Endpoint{"127.0.0.1", 0};
  IngestMetricsEndpoint endpoint(&loop, options, [] { return std::string("assas_up 1\n"); });
  REQUIRE(endpoint.start().is_ok());
  int port = endpoint.bound_port();
  REQUIRE(port > 0);
  test::HttpReply metrics;
  test::HttpReply missing;
  uv_async_t done{};
  done.data = &endpoint;
  REQUIRE(uv_async_init(&loop, &done, [](uv_async_t* async) noexcept {
            static_cast<IngestMetricsEndpoint*>(async->data)->close([] {});
            uv_close(reinterpret_cast<uv_handle_t*>(async), nullptr);
          }) == 0);
  std::thread client([&] {
    metrics = test::http_get(port, "/metrics");
    missing = test::http_get(port, "/health");
    uv_async_send(&done);
  });
  REQUIRE(uv_run(&loop, UV_RUN_DEFAULT) == 0);
  client.join();
  REQUIRE(uv_loop_close(&loop) == 0);
  CHECK(metrics.status == 200);
  CHECK(metrics.body == "assas_up 1\n");
  CHECK(metrics.head.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
        std::string::npos);
  CHECK(missing.status == 404);
}

TEST_CASE("an ingest metrics address in use is an error naming the key", "[metrics]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  IngestMetricsOptions options;
  options.enabled = true;
  options.listen = transport::Endpoint{"127.0.0.1", 0};
  IngestMetricsEndpoint first(&loop, options, [] { return std::string(); });
  REQUIRE(first.start().is_ok());
  options.listen.port = first.bound_port();
  IngestMetricsEndpoint second(&loop, options, [] { return std::string(); });
  Status taken = second.start();
  REQUIRE_FALSE(taken.is_ok());
  REQUIRE_THAT(taken.message(), Catch::Contains("ingest.metrics.listen: cannot serve /metrics on "
                                                "127.0.0.1:" +
                                                std::to_string(options.listen.port)));
  first.close([] {});
  second.close([] {});
  REQUIRE(uv_run(&loop, UV_RUN_DEFAULT) == 0);
  REQUIRE(uv_loop_close(&loop) == 0);
}

}  // namespace assas::ingest
