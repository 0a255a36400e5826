#include "collectors/file/file_collector_config.h"

namespace assas::collectors {

Result<FileCollectorConfig> parse_file_collector_config(const ConfigNode& node,
                                                        const std::string& name) {
  FileCollectorConfig config;
  config.name = name;
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  (void)node.get("type");  // read by the agent config
  (void)node.get("name");
  ASSAS_RETURN_IF_ERROR(node.optional_string_list("paths", config.paths));
  if (config.paths.empty()) {
    return node.error("missing required key 'paths', e.g. [\"/var/log/nginx/*.log\"]");
  }
  for (const std::string& path : config.paths) {
    if (path.empty() || path.front() != '/') {
      return node.get("paths")->error("'" + path + "' must be an absolute path or glob");
    }
  }
  std::string start_at = "end";
  ASSAS_RETURN_IF_ERROR(node.optional_choice("start_at", start_at, {"beginning", "end"}));
  config.start_at_beginning = start_at == "beginning";
  ASSAS_RETURN_IF_ERROR(node.optional_string_map("fields", config.fields));
  ASSAS_RETURN_IF_ERROR(
      node.optional_size("max_line_bytes", config.max_line_bytes, 1 << 10, 64 << 20));
  ASSAS_RETURN_IF_ERROR(node.optional_bool("strip_cr", config.strip_cr));
  ASSAS_RETURN_IF_ERROR(
      node.optional_size("read_buffer", config.read_buffer_bytes, 4 << 10, 16 << 20));
  std::chrono::nanoseconds stat = config.stat_interval;
  std::chrono::nanoseconds rescan = config.rescan_interval;
  ASSAS_RETURN_IF_ERROR(node.optional_duration("stat_interval", stat, std::chrono::milliseconds(10),
                                               std::chrono::minutes(10)));
  ASSAS_RETURN_IF_ERROR(node.optional_duration(
      "rescan_interval", rescan, std::chrono::milliseconds(10), std::chrono::hours(1)));
  config.stat_interval = std::chrono::duration_cast<std::chrono::milliseconds>(stat);
  config.rescan_interval = std::chrono::duration_cast<std::chrono::milliseconds>(rescan);
  ASSAS_RETURN_IF_ERROR(node.no_unknown_keys());
  return config;
}

}  // namespace assas::collectors
