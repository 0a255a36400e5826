#include "collectors/file/file_collector_config.h"

#include "collectors/collector_entry.h"

namespace assas::collectors {

namespace {

using std::chrono::milliseconds;

Status parse_multiline(const ConfigNode& node, MultilineConfig& out) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  std::string start;
  ASSAS_RETURN_IF_ERROR(node.optional_string("start", start));
  if (start.empty()) {
    return node.error(
        "missing required key 'start', a regular expression that matches the first "
        "line of an event, e.g. '^\\d{4}-\\d{2}-\\d{2}' or '^\\S'");
  }
  Result<std::shared_ptr<const LinePattern>> pattern = LinePattern::compile(start);
  if (!pattern.is_ok()) {
    return node.get("start")->error(pattern.status().message());
  }
  out.start = std::move(pattern).value();
  uint64_t max_lines = out.max_lines;
  ASSAS_RETURN_IF_ERROR(node.optional_uint("max_lines", max_lines, 2, 100000));
  out.max_lines = static_cast<uint32_t>(max_lines);
  ASSAS_RETURN_IF_ERROR(node.optional_size("max_bytes", out.max_bytes, 1 << 10, 64 << 20));
  ASSAS_RETURN_IF_ERROR(
      node.optional_millis("timeout", out.timeout, milliseconds(10), std::chrono::minutes(10)));
  return node.no_unknown_keys();
}

}  // namespace

Result<FileCollectorConfig> parse_file_collector_config(const ConfigNode& node,
                                                        const std::string& name) {
  FileCollectorConfig config;
  config.name = name;
  ASSAS_RETURN_IF_ERROR(expect_collector_entry(node));
  ASSAS_RETURN_IF_ERROR(node.optional_string_list("paths", config.paths));
  if (config.paths.empty()) {
    return node.error("missing required key 'paths', e.g. [\"/var/log/nginx/*.log\"]");
  }
  for (const std::string& path : config.paths) {
    if (path.empty() || path.front() != '/') {
      return node.get("paths")->error("'" + path + "' must be an absolute path or glob");
    }
  }
  ASSAS_RETURN_IF_ERROR(node.optional_string_list("exclude", config.exclude));
  std::string start_at = "end";
  ASSAS_RETURN_IF_ERROR(node.optional_choice("start_at", start_at, {"beginning", "end"}));
  config.start_at_beginning = start_at == "beginning";
  ASSAS_RETURN_IF_ERROR(node.optional_string_map("fields", config.fields));
  ASSAS_RETURN_IF_ERROR(
      node.optional_size("max_line_bytes", config.max_line_bytes, 1 << 10, 64 << 20));
  std::string long_lines = "split";
  ASSAS_RETURN_IF_ERROR(node.optional_choice("long_lines", long_lines, {"split", "truncate"}));
  config.long_lines = long_lines == "split" ? LongLines::kSplit : LongLines::kTruncate;
  ASSAS_RETURN_IF_ERROR(node.optional_bool("strip_cr", config.strip_cr));
  ASSAS_RETURN_IF_ERROR(
      node.optional_size("read_buffer", config.read_buffer_bytes, 4 << 10, 16 << 20));
  ASSAS_RETURN_IF_ERROR(node.optional_millis("stat_interval", config.stat_interval,
                                             milliseconds(10), std::chrono::minutes(10)));
  ASSAS_RETURN_IF_ERROR(node.optional_millis("rescan_interval", config.rescan_interval,
                                             milliseconds(10), std::chrono::hours(1)));
  ASSAS_RETURN_IF_ERROR(node.optional_millis("partial_line_timeout", config.partial_line_timeout,
                                             milliseconds(0), std::chrono::hours(1)));
  uint64_t max_open = config.max_open_files;
  ASSAS_RETURN_IF_ERROR(node.optional_uint("max_open_files", max_open, 1, 1'000'000));
  config.max_open_files = static_cast<uint32_t>(max_open);
  ASSAS_RETURN_IF_ERROR(node.optional_millis("close_inactive", config.close_inactive,
                                             milliseconds(10), std::chrono::hours(24)));
  ASSAS_RETURN_IF_ERROR(node.optional_millis("rotate_wait", config.rotate_wait, milliseconds(0),
                                             std::chrono::hours(24)));
  ASSAS_RETURN_IF_ERROR(node.optional_millis("forget_after", config.forget_after, milliseconds(0),
                                             std::chrono::hours(24 * 365)));
  if (std::optional<ConfigNode> multiline = node.get("multiline")) {
    ASSAS_RETURN_IF_ERROR(parse_multiline(*multiline, config.multiline));
    if (config.multiline.max_bytes < config.max_line_bytes) {
      config.max_line_bytes = config.multiline.max_bytes;  // a line cannot exceed its event
    }
  }
  ASSAS_RETURN_IF_ERROR(node.no_unknown_keys());
  return config;
}

}  // namespace assas::collectors
