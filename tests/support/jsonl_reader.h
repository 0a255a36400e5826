#pragma once

// Reads the JSON lines assas-ingest writes, for integration tests: just enough JSON to pull the
// top-level string and number values out of one object per line. Not a general JSON parser.

#include <map>
#include <string>
#include <vector>

namespace assas::test {

// Top-level keys of one JSON object → their values: strings unescaped, numbers and nested
// objects as their raw text. Throws std::runtime_error on text it cannot read.
std::map<std::string, std::string> parse_json_object(const std::string& line);

// Every line of every file matching pattern (a glob), in file-name order then line order;
// a last line without its newline yet is left out.
std::vector<std::string> read_lines_of(const std::string& pattern);

}  // namespace assas::test
