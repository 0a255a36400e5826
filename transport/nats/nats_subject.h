#pragma once

// The subject an event is published to, from the output's template: literal tokens and the
// placeholders {agent}, {host} and {collector}, joined by '.'. A placeholder's value becomes
// subject-safe: every byte other than A-Z a-z 0-9 '-' '_' is replaced by '_' (so no '.', '*',
// '>', whitespace or control character can add a token or a wildcard), and an empty value
// becomes "_". docs/outputs/nats.md documents the rule.

#include <string>
#include <string_view>

#include "base/status.h"

namespace assas::transport {

struct SubjectValues {
  std::string_view agent;
  std::string_view host;
  std::string_view collector;
};

// Checks a template: non-empty tokens, no wildcard or whitespace, only known placeholders.
Status validate_subject_template(std::string_view subject_template);

// The template with every placeholder replaced by '*': the subjects a stream must cover.
std::string subject_wildcard(std::string_view subject_template);

// Appends the template's subject for values to out (the template is valid).
void append_subject(std::string& out, std::string_view subject_template,
                    const SubjectValues& values);

// Appends value as one subject-safe token.
void append_subject_token(std::string& out, std::string_view value);

// The host of one event's JSON line (transport/protocol/event_json.h): the raw text of its
// "host" (or "host_base64") string, escapes included; empty if the line has none.
std::string_view event_json_host(std::string_view json_line);

}  // namespace assas::transport
