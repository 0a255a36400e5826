#include "transport/kafka/kafka_template.h"

namespace assas::transport {

Result<KafkaTemplate> KafkaTemplate::parse(std::string_view text) {
  KafkaTemplate t;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find('{', i);
    if (open == std::string_view::npos) {
      t.pieces_.push_back(Piece{Part::kText, std::string(text.substr(i))});
      break;
    }
    if (open > i) {
      t.pieces_.push_back(Piece{Part::kText, std::string(text.substr(i, open - i))});
    }
    size_t close = text.find('}', open);
    if (close == std::string_view::npos) {
      return invalid_argument("'" + std::string(text) + "' has a '{' without its '}'");
    }
    std::string_view name = text.substr(open + 1, close - open - 1);
    if (name == "agent") {
      t.pieces_.push_back(Piece{Part::kAgent, {}});
    } else if (name == "host") {
      t.pieces_.push_back(Piece{Part::kHost, {}});
    } else if (name == "collector") {
      t.pieces_.push_back(Piece{Part::kCollector, {}});
    } else {
      return invalid_argument("'{" + std::string(name) + "}' in '" + std::string(text) +
                              "' is not a placeholder; use {agent}, {host} or {collector}");
    }
    i = close + 1;
  }
  return t;
}

void KafkaTemplate::expand(const EncodedEvent& event, std::string_view agent,
                           std::string& out) const {
  out.clear();
  for (const Piece& p : pieces_) {
    switch (p.part) {
      case Part::kText:
        out += p.text;
        break;
      case Part::kAgent:
        out += agent;
        break;
      case Part::kHost:
        out += event.host;
        break;
      case Part::kCollector:
        out += event.collector;
        break;
    }
  }
}

}  // namespace assas::transport
