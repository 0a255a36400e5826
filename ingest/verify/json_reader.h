#pragma once

// A small strict JSON reader (RFC 8259): it accepts exactly one value with optional whitespace
// around it, refuses everything the RFC refuses (trailing commas, leading zeros, raw control
// characters in strings, bad escapes, invalid UTF-8, lone surrogate escapes) and gives back the
// decoded strings. `assas-ingest verify` reads the stored event lines with it (stored_event.h),
// and the event_json fuzz target checks with it that the writer's output is valid and decodes to
// the bytes that went in. Object members keep their order and duplicates: keys[i] names items[i].
// Nesting is bounded, so hostile input cannot exhaust the stack.

#include <string>
#include <string_view>
#include <vector>

namespace assas::ingest {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  std::string text;  // kString: the decoded bytes; kNumber, kBool: the literal as written
  std::vector<JsonValue> items;   // kArray: the elements; kObject: the members' values
  std::vector<std::string> keys;  // kObject: the members' keys, decoded
};

// Parses text into out (replacing it); false if text is not exactly one valid JSON value.
bool parse_json(std::string_view text, JsonValue& out);

}  // namespace assas::ingest
