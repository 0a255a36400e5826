#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace assas::test {

// Polls predicate until it is true or deadline passes; never waits without a bound.
bool wait_for(const std::function<bool()>& predicate, std::chrono::milliseconds deadline,
              std::chrono::milliseconds poll = std::chrono::milliseconds(20));

// Waits until file holds a line containing prefix followed by a number, and returns the number
// (-1 at the deadline). E.g. the port of "listening address=127.0.0.1 port=40123".
int wait_for_number_in_file(const std::string& path, const std::string& prefix,
                            std::chrono::milliseconds deadline);

}  // namespace assas::test
