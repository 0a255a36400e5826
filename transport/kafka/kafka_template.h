#pragma once

// A record key (or topic) made of text and the placeholders {agent}, {host} and {collector}, parsed
// once and expanded per event on the publisher thread.

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "transport/broker/broker_output.h"

namespace assas::transport {

class KafkaTemplate {
 public:
  // Refuses an unknown placeholder or an unclosed brace, naming it.
  static Result<KafkaTemplate> parse(std::string_view text);

  // The text for one event of agent.
  void expand(const EncodedEvent& event, std::string_view agent, std::string& out) const;

 private:
  enum class Part { kText, kAgent, kHost, kCollector };
  struct Piece {
    Part part;
    std::string text;
  };
  std::vector<Piece> pieces_;
};

}  // namespace assas::transport
