// The receiving end of bench/kafka.sh: librdkafka's MOCK CLUSTER (rdkafka_mock.h), in-process,
// not Kafka. Three mock brokers on 127.0.0.1 and a topic of P partitions with replication factor
// 3; prints "bootstraps=<host:port,...>" once ready, then every 100 ms writes how many records the
// topic holds (the sum of the partitions' high watermarks) to COUNT_FILE, until SIGTERM.
//
//   kafka_mock_sink <topic> <partitions> <count_file>
//
// Built by bench/kafka.sh with g++ and pkg-config rdkafka; not part of the product.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int /*sig*/) {
  g_stop = 1;
}

rd_kafka_t* make_client(const char* bootstraps) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error);
  if (bootstraps != nullptr && rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, error,
                                                 sizeof error) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "%s\n", error);
    std::exit(1);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (rk == nullptr) {
    std::fprintf(stderr, "%s\n", error);
    std::exit(1);
  }
  return rk;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: kafka_mock_sink <topic> <partitions> <count_file>\n");
    return 2;
  }
  const char* topic = argv[1];
  int partitions = std::atoi(argv[2]);
  std::string count_file = argv[3];
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);

  rd_kafka_t* owner = make_client(nullptr);  // the mock cluster lives in a client of its own
  rd_kafka_mock_cluster_t* mock = rd_kafka_mock_cluster_new(owner, 3);
  if (mock == nullptr || rd_kafka_mock_topic_create(mock, topic, partitions, 3) != 0) {
    std::fprintf(stderr, "cannot start the mock cluster\n");
    return 1;
  }
  std::string bootstraps = rd_kafka_mock_cluster_bootstraps(mock);
  std::printf("bootstraps=%s\n", bootstraps.c_str());
  std::fflush(stdout);

  rd_kafka_t* watcher = make_client(bootstraps.c_str());
  while (g_stop == 0) {
    long long total = 0;
    bool known = true;
    for (int p = 0; p < partitions && known; ++p) {
      int64_t low = 0;
      int64_t high = 0;
      known = rd_kafka_query_watermark_offsets(watcher, topic, p, &low, &high, 1000) == 0;
      total += high;
    }
    if (known) {
      std::string tmp = count_file + ".tmp";
      if (FILE* f = std::fopen(tmp.c_str(), "w")) {
        std::fprintf(f, "%lld\n", total);
        std::fclose(f);
        std::rename(tmp.c_str(), count_file.c_str());
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  rd_kafka_destroy(watcher);
  rd_kafka_mock_cluster_destroy(mock);
  rd_kafka_destroy(owner);
  return 0;
}
