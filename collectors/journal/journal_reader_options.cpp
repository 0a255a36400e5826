#include "collectors/journal/journal_reader_options.h"

#include "base/bytes.h"

namespace assas::collectors {

namespace {

const char* start_name(JournalStart start) {
  switch (start) {
    case JournalStart::kHead:
      return "head";
    case JournalStart::kTail:
      return "tail";
    case JournalStart::kAfterCursor:
      return "after-cursor";
  }
  return "tail";
}

}  // namespace

std::vector<std::string> journal_reader_args(const JournalReaderOptions& o) {
  std::vector<std::string> args = {"--parent", std::to_string(o.parent)};
  if (!o.directory.empty()) {
    args.insert(args.end(), {"--directory", o.directory});
  }
  bool first_group = true;
  for (const std::vector<std::string>& group : o.match_groups) {
    if (!first_group) {
      args.emplace_back("--and");
    }
    first_group = false;
    for (const std::string& match : group) {
      args.insert(args.end(), {"--match", match});
    }
  }
  args.insert(args.end(), {"--start", start_name(o.start)});
  if (o.start == JournalStart::kAfterCursor) {
    args.insert(args.end(), {"--cursor", o.cursor});
  }
  if (o.all_fields) {
    args.emplace_back("--all-fields");
  }
  for (const std::string& field : o.fields) {
    args.insert(args.end(), {"--field", field});
  }
  args.insert(args.end(),
              {"--max-field-bytes", std::to_string(o.max_field_bytes), "--log-level", o.log_level});
  return args;
}

Result<JournalReaderOptions> parse_journal_reader_args(const std::vector<std::string>& args) {
  JournalReaderOptions o;
  bool group_open = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--and" || flag == "--all-fields") {
      if (flag == "--and") {
        group_open = false;
      } else {
        o.all_fields = true;
      }
      continue;
    }
    if (i + 1 >= args.size()) {
      return invalid_argument("journal reader: " + flag + " needs a value");
    }
    const std::string& value = args[++i];
    uint64_t number = 0;
    if (flag == "--parent" && parse_decimal_u64(value, number)) {
      o.parent = static_cast<pid_t>(number);
    } else if (flag == "--directory") {
      o.directory = value;
    } else if (flag == "--match") {
      if (!group_open) {
        o.match_groups.emplace_back();
        group_open = true;
      }
      o.match_groups.back().push_back(value);
    } else if (flag == "--start" &&
               (value == "head" || value == "tail" || value == "after-cursor")) {
      o.start = value == "head"   ? JournalStart::kHead
                : value == "tail" ? JournalStart::kTail
                                  : JournalStart::kAfterCursor;
    } else if (flag == "--cursor") {
      o.cursor = value;
    } else if (flag == "--field") {
      o.fields.push_back(value);
    } else if (flag == "--max-field-bytes" && parse_decimal_u64(value, number) && number > 0) {
      o.max_field_bytes = number;
    } else if (flag == "--log-level") {
      o.log_level = value;
    } else {
      return invalid_argument("journal reader: bad argument " + flag + " " + value);
    }
  }
  if (o.start == JournalStart::kAfterCursor && o.cursor.empty()) {
    return invalid_argument("journal reader: --start after-cursor needs --cursor");
  }
  return o;
}

}  // namespace assas::collectors
