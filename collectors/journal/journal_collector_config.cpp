#include "collectors/journal/journal_collector_config.h"

#include <algorithm>

#include "base/bytes.h"
#include "collectors/collector_entry.h"

namespace assas::collectors {

namespace {

// A range wider than this is surely a mistake (PRIORITY has 8 values, SYSLOG_FACILITY 24).
constexpr uint64_t kMaxRangeValues = 1000;

// Journal field names: upper-case letters, digits and '_', not starting with a digit (journald
// drops entries' fields that break this, and sd_journal_add_match refuses them).
bool valid_field_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// "FIELD=value" → matches; "FIELD=lo..hi" (decimal) → one match per value.
Status add_match(const ConfigNode& at, const std::string& text, std::vector<std::string>& out) {
  size_t equals = text.find('=');
  if (equals == std::string::npos || !valid_field_name(text.substr(0, equals))) {
    return at.error("'" + text +
                    "' is not a journal match; write FIELD=value with an upper-case field name, "
                    "e.g. _SYSTEMD_UNIT=sshd.service or PRIORITY=0..4");
  }
  std::string field = text.substr(0, equals);
  std::string value = text.substr(equals + 1);
  size_t dots = value.find("..");
  uint64_t lo = 0;
  uint64_t hi = 0;
  if (dots != std::string::npos && parse_decimal_u64(value.substr(0, dots), lo) &&
      parse_decimal_u64(value.substr(dots + 2), hi)) {
    if (lo > hi || hi - lo >= kMaxRangeValues) {
      return at.error("'" + text + "': a range must go up (e.g. PRIORITY=0..4) and hold at most " +
                      std::to_string(kMaxRangeValues) + " values");
    }
    for (uint64_t v = lo; v <= hi; ++v) {
      out.push_back(field + "=" + std::to_string(v));
    }
    return Status::ok();
  }
  out.push_back(text);
  return Status::ok();
}

Status parse_fields(const ConfigNode& node, JournalCollectorConfig& config) {
  std::optional<ConfigNode> fields = node.get("fields");
  if (!fields) {
    return Status::ok();
  }
  if (fields->is_scalar()) {
    Result<std::string> word = fields->as_string();
    if (!word.is_ok() || *word != "all") {
      return fields->error(
          "must be the word 'all' or a list of journal field names, e.g. "
          "[PRIORITY, _PID, _SYSTEMD_UNIT]");
    }
    config.all_fields = true;
    config.fields.clear();
    return Status::ok();
  }
  config.fields.clear();
  ASSAS_RETURN_IF_ERROR(node.optional_string_list("fields", config.fields));
  for (const std::string& name : config.fields) {
    if (!valid_field_name(name)) {
      return fields->error("'" + name +
                           "' is not a journal field name (upper-case letters, digits and '_', "
                           "e.g. _SYSTEMD_UNIT)");
    }
  }
  return Status::ok();
}

}  // namespace

Result<JournalCollectorConfig> parse_journal_collector_config(const ConfigNode& node,
                                                              const std::string& name) {
  JournalCollectorConfig config;
  config.name = name;
  ASSAS_RETURN_IF_ERROR(expect_collector_entry(node));
  ASSAS_RETURN_IF_ERROR(node.optional_string("directory", config.directory));
  if (!config.directory.empty() && config.directory.front() != '/') {
    return node.get("directory")->error("'" + config.directory + "' must be an absolute path");
  }
  std::vector<std::string> matches;
  ASSAS_RETURN_IF_ERROR(node.optional_string_list("matches", matches));
  for (const std::string& match : matches) {
    ASSAS_RETURN_IF_ERROR(add_match(*node.get("matches"), match, config.matches));
  }
  std::vector<std::string> units;
  ASSAS_RETURN_IF_ERROR(node.optional_string_list("units", units));
  for (const std::string& unit : units) {
    if (unit.empty() || unit.find_first_of("=/ ") != std::string::npos) {
      return node.get("units")->error("'" + unit + "' is not a unit name, e.g. sshd.service");
    }
    // As systemctl does: a bare name is a service.
    config.units.push_back("_SYSTEMD_UNIT=" + unit +
                           (unit.find('.') == std::string::npos ? ".service" : ""));
  }
  std::string start_at = "end";
  ASSAS_RETURN_IF_ERROR(node.optional_choice("start_at", start_at, {"beginning", "end", "cursor"}));
  config.start_at = start_at == "beginning" ? JournalStartAt::kBeginning
                    : start_at == "end"     ? JournalStartAt::kEnd
                                            : JournalStartAt::kCursor;
  ASSAS_RETURN_IF_ERROR(node.optional_string("cursor", config.cursor));
  if (config.start_at == JournalStartAt::kCursor && config.cursor.empty()) {
    return node.error(
        "start_at: cursor needs the key 'cursor', e.g. the output of "
        "`journalctl -n 1 --show-cursor`");
  }
  if (config.start_at != JournalStartAt::kCursor && !config.cursor.empty()) {
    return node.get("cursor")->error("is used only with start_at: cursor; set that or remove it");
  }
  ASSAS_RETURN_IF_ERROR(parse_fields(node, config));
  ASSAS_RETURN_IF_ERROR(
      node.optional_size("max_entry_size", config.max_entry_size_bytes, 1 << 10, 8 << 20));
  ASSAS_RETURN_IF_ERROR(node.no_unknown_keys());
  return config;
}

}  // namespace assas::collectors
