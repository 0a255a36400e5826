#pragma once

// A stand-in for the agent's shipper in the outputs' unit tests: it sends batches of `per_batch`
// events "m<seq>.<i>" as the output allows, resends after each on_connected from the last
// acknowledged batch (as agent/shipper.cpp does), and records what the output reported.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "transport/output.h"
#include "transport/protocol/batch_codec.h"

namespace assas::transport {

struct Shipper final : OutputListener {
  Status on_connected(uint64_t stored) override {
    ++connected;
    next = std::max(stored, acked) + 1;
    pump();
    return Status::ok();
  }
  void on_acked(uint64_t upto) override { acked = upto; }
  void on_writable() override { pump(); }
  void on_disconnected(const Status& why) override {
    ++disconnected;
    last_error = why.to_string();
  }
  void pump() {
    while (output != nullptr && next <= total && output->can_send()) {
      BatchEncoder encoder;
      uint32_t stream = encoder.add_stream("logs", "/var/log/app.log", {});
      for (int i = 0; i < per_batch; ++i) {
        encoder.add_event(0, stream, 0, "m" + std::to_string(next) + "." + std::to_string(i));
      }
      auto raw = std::make_shared<const std::string>(encoder.finish("gw-1"));
      output->send(OutgoingBatch{next,
                                 static_cast<uint32_t>(per_batch),
                                 static_cast<uint32_t>(raw->size()),
                                 Codec::kNone,
                                 raw,
                                 {}});
      ++next;
    }
  }
  Output* output = nullptr;
  uint64_t next = 1;
  uint64_t total = 0;
  int per_batch = 3;
  uint64_t acked = 0;
  int connected = 0;
  int disconnected = 0;
  std::string last_error;
};

}  // namespace assas::transport
