#pragma once

// A YAML config node that knows where it came from. Every error it makes names the file, line and
// column and the key path, e.g. "agent.yaml:14:7: outputs[0].tls.ca: file ... not found", and every
// mapping refuses keys that nobody asked for (a typo must never silently disable a security
// setting). ${VAR} and ${VAR:-default} in scalar values are replaced from the environment; "$$"
// is a literal "$".
//
// This is the only place that touches yaml-cpp, and so the only place with try/catch: yaml-cpp
// throws, and its exceptions become Status values here.
//
// Typical use, in a component's parse function:
//   ASSAS_RETURN_IF_ERROR(node.expect_map());
//   ASSAS_RETURN_IF_ERROR(node.optional_size("max_size", config.max_size));
//   ASSAS_RETURN_IF_ERROR(node.no_unknown_keys());
// The optional_* helpers leave the output untouched when the key is absent, so the struct's
// defaults stand; that is why they take output parameters.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/status.h"

namespace assas {

class ConfigNode {
 public:
  // Parses a YAML file. The root is a node with an empty path.
  static Result<ConfigNode> load_file(const std::string& path);
  // Parses YAML text; name stands for the file in messages.
  static Result<ConfigNode> load_string(std::string_view text, const std::string& name);

  const std::string& path() const { return path_; }
  const std::string& file() const;
  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  bool is_null() const { return node_.IsNull(); }

  // InvalidArgument "file:line:col: path: message" at this node.
  Status error(std::string_view message) const;
  Status expect_map() const;

  // Mapping access. has() and get() record the key as known, for no_unknown_keys().
  bool has(std::string_view key) const;
  std::optional<ConfigNode> get(std::string_view key) const;
  // Fails at the first key nobody asked for, listing the valid ones, and on duplicate keys.
  Status no_unknown_keys() const;
  // Sequence access; fails unless this is a sequence.
  Result<std::vector<ConfigNode>> items() const;

  // Scalars, after ${VAR} substitution.
  Result<std::string> as_string() const;
  Result<bool> as_bool() const;
  Result<int64_t> as_int(int64_t min, int64_t max) const;
  Result<uint64_t> as_size() const;
  Result<std::chrono::nanoseconds> as_duration() const;

  Status required_string(std::string_view key, std::string& out) const;
  Status optional_string(std::string_view key, std::string& out) const;
  Status optional_bool(std::string_view key, bool& out) const;
  Status optional_int(std::string_view key, int64_t& out, int64_t min, int64_t max) const;
  Status optional_uint(std::string_view key, uint64_t& out, uint64_t min, uint64_t max) const;
  // Size with a lower and upper bound, e.g. optional_size("max_bytes", x, 1024, 64 << 20).
  Status optional_size(std::string_view key, uint64_t& out, uint64_t min = 0,
                       uint64_t max = UINT64_MAX) const;
  Status optional_duration(std::string_view key, std::chrono::nanoseconds& out,
                           std::chrono::nanoseconds min = std::chrono::nanoseconds(0),
                           std::chrono::nanoseconds max = std::chrono::hours(24 * 365)) const;
  // The same, kept in whole milliseconds (what timers take).
  Status optional_millis(std::string_view key, std::chrono::milliseconds& out,
                         std::chrono::nanoseconds min = std::chrono::nanoseconds(0),
                         std::chrono::nanoseconds max = std::chrono::hours(24 * 365)) const;
  // One of a fixed set of words; the error lists them.
  Status optional_choice(std::string_view key, std::string& out,
                         std::initializer_list<std::string_view> choices) const;
  // A list of strings; a single string is refused, so that "paths: /var/log/x" is not half-read.
  Status optional_string_list(std::string_view key, std::vector<std::string>& out) const;
  // A mapping of strings to strings, e.g. user fields.
  Status optional_string_map(std::string_view key,
                             std::vector<std::pair<std::string, std::string>>& out) const;

 private:
  struct Source;
  ConfigNode(std::shared_ptr<const Source> source, YAML::Node node, std::string path);
  std::string child_path(std::string_view key) const;

  std::shared_ptr<const Source> source_;
  YAML::Node node_;
  std::string path_;
  // Keys asked for on this mapping; shared by copies of the node so a copy's get() counts.
  std::shared_ptr<std::vector<std::string>> known_keys_;
};

// ${VAR} and ${VAR:-default} substitution; exposed for tests.
Result<std::string> substitute_env(std::string_view text);

}  // namespace assas
