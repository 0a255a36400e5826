#pragma once

#include <cstdint>
#include <string_view>

#include <sys/types.h>

namespace assas::test {

// A "<key>: <n> kB" value of /proc/<pid>/status in KiB (VmRSS, VmHWM, RssAnon), 0 if unreadable.
uint64_t proc_status_kib(pid_t pid, std::string_view key);

}  // namespace assas::test
