#include "agent/worker.h"

#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace assas::agent {

TEST_CASE("worker jobs run off the loop thread, in order, and complete on the loop", "[worker]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  auto* worker = new Worker(&loop);
  std::vector<int> ran;
  std::vector<int> done;
  std::thread::id loop_thread = std::this_thread::get_id();
  bool off_loop = true;
  for (int i = 0; i < 100; ++i) {
    worker->post(
        [&, i] {
          off_loop = off_loop && std::this_thread::get_id() != loop_thread;
          ran.push_back(i);
        },
        [&, i] {
          REQUIRE(std::this_thread::get_id() == loop_thread);
          done.push_back(i);
          if (i == 99) {
            worker->close([&] { delete worker; });
          }
        });
  }
  REQUIRE(uv_run(&loop, UV_RUN_DEFAULT) == 0);
  REQUIRE(off_loop);
  REQUIRE(ran.size() == 100);
  REQUIRE(done.size() == 100);
  for (int i = 0; i < 100; ++i) {
    REQUIRE(ran[i] == i);
    REQUIRE(done[i] == i);
  }
  REQUIRE(uv_loop_close(&loop) == 0);
}

TEST_CASE("closing a worker runs and completes the jobs still queued", "[worker]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  auto* worker = new Worker(&loop);
  int done = 0;
  for (int i = 0; i < 10; ++i) {
    worker->post([] {}, [&] { ++done; });
  }
  bool closed = false;
  worker->close([&] {
    closed = true;
    delete worker;
  });
  REQUIRE(done == 10);
  REQUIRE(uv_run(&loop, UV_RUN_DEFAULT) == 0);
  REQUIRE(closed);
  REQUIRE(uv_loop_close(&loop) == 0);
}

}  // namespace assas::agent
