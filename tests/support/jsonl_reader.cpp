#include "tests/support/jsonl_reader.h"

#include <fstream>
#include <iterator>
#include <stdexcept>

#include <glob.h>

namespace assas::test {
namespace {

class Parser {
 public:
  explicit Parser(const std::string& text) : s_(text) {}

  std::map<std::string, std::string> object() {
    std::map<std::string, std::string> out;
    expect('{');
    skip_space();
    if (peek() == '}') {
      ++i_;
      return out;
    }
    for (;;) {
      skip_space();
      std::string key = string_value();
      skip_space();
      expect(':');
      skip_space();
      out[key] = value();
      skip_space();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect('}');
      return out;
    }
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void expect(char c) {
    if (peek() != c) {
      throw std::runtime_error(std::string("expected '") + c + "' at " + std::to_string(i_));
    }
    ++i_;
  }
  void skip_space() {
    while (peek() == ' ') {
      ++i_;
    }
  }
  std::string value() {
    char c = peek();
    if (c == '"') {
      return string_value();
    }
    size_t start = i_;
    if (c == '{' || c == '[') {  // nested: return the raw text, balancing brackets
      int depth = 0;
      bool in_string = false;
      for (; i_ < s_.size(); ++i_) {
        char d = s_[i_];
        if (in_string) {
          if (d == '\\') {
            ++i_;
          } else if (d == '"') {
            in_string = false;
          }
        } else if (d == '"') {
          in_string = true;
        } else if (d == '{' || d == '[') {
          ++depth;
        } else if (d == '}' || d == ']') {
          if (--depth == 0) {
            ++i_;
            return s_.substr(start, i_ - start);
          }
        }
      }
      throw std::runtime_error("unbalanced nested value");
    }
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}') {
      ++i_;
    }
    return s_.substr(start, i_ - start);
  }
  std::string string_value() {
    expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = s_.at(i_++);
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          unsigned code = std::stoul(s_.substr(i_, 4), nullptr, 16);
          i_ += 4;
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xc0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3f));
          } else {
            out += static_cast<char>(0xe0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (code & 0x3f));
          }
          break;
        }
        default:
          out += e;
      }
    }
    expect('"');
    return out;
  }

  const std::string& s_;
  size_t i_ = 0;
};

}  // namespace

std::map<std::string, std::string> parse_json_object(const std::string& line) {
  return Parser(line).object();
}

std::vector<std::string> read_lines_of(const std::string& pattern) {
  std::vector<std::string> lines;
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::ifstream in(g.gl_pathv[i], std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      // A line still being written (no newline yet) is not a line yet.
      size_t start = 0;
      for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
        lines.push_back(text.substr(start, nl - start));
        start = nl + 1;
      }
    }
  }
  globfree(&g);
  return lines;
}

}  // namespace assas::test
