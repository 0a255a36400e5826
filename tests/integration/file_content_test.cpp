// File collector scenarios about what a line becomes (issue 4, scenarios 10-13, and 14 for
// multiline): partial lines, over-long lines, byte-exactness, multiline events. Real assas-agent
// and assas-ingest processes; messages are compared byte for byte.

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/integration/deployment.h"
#include "tests/integration/log_writer.h"
#include "tests/support/proc_status.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;

const std::string kPipeline = "pipeline: { batch: { max_events: 512, max_delay: 20ms } }\n";

std::string collector(const Deployment& d, const std::string& extra) {
  return "    paths: [\"" + d.logs_dir() +
         "/*.log\"]\n"
         "    start_at: beginning\n"
         "    stat_interval: 100ms\n"
         "    rescan_interval: 200ms\n"
         "    rotate_wait: 300ms\n" +
         extra;
}

// Received events sorted by source and offset (the order they were written in).
std::vector<ReceivedEvent> in_file_order(const Deployment& d) {
  std::vector<ReceivedEvent> events = d.received();
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return a.source != b.source ? a.source < b.source : a.offset < b.offset;
  });
  return events;
}

std::vector<std::string> messages_of(const std::vector<ReceivedEvent>& events) {
  std::vector<std::string> out;
  for (const ReceivedEvent& e : events) {
    out.push_back(e.message);
  }
  return out;
}

}  // namespace

TEST_CASE("scenario 10: a partial last line is held for its newline or sent after the timeout",
          "[integration][file][content]") {
  Deployment d;
  d.set_collector(collector(d, "    partial_line_timeout: 1500ms\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  LogWriter w(d.logs_dir() + "/app.log", "p");
  w.write_raw("p#1 first half");
  std::this_thread::sleep_for(500ms);  // a slow writer, well within the timeout
  w.write_raw(" second half\n");
  REQUIRE(d.wait_for_events(1, 30s));
  w.write_raw("p#2 no newline yet");  // then nothing for longer than the timeout
  REQUIRE(d.wait_for_events(2, 30s));
  w.write_raw("\n");  // the newline that ends it: no empty event
  w.write_raw("p#3 next\n");
  REQUIRE(d.wait_for_events(3, 30s));
  REQUIRE(d.agent().terminate(20s) == 0);
  d.start_agent(kPipeline);  // a restart must not send any of them again
  w.write_raw("p#4 after the restart\n");
  REQUIRE(d.wait_for_events(4, 30s));
  REQUIRE_FALSE(d.wait_for_events(5, 2s));
  std::vector<ReceivedEvent> events = in_file_order(d);
  REQUIRE(messages_of(events) == std::vector<std::string>{"p#1 first half second half",
                                                          "p#2 no newline yet", "p#3 next",
                                                          "p#4 after the restart"});
  REQUIRE(events[0].fields.count("partial") == 0);
  REQUIRE(events[1].fields["partial"] == "true");
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("scenario 10: a backlog read in many chunks for longer than the timeout has no cut line",
          "[integration][file][content]") {
  // 4 KiB reads and small batches: catching up on 60,000 lines takes far longer than the
  // 100 ms timeout, and most chunks end in the middle of a line that the next read completes.
  Deployment d;
  d.set_collector(collector(d, "    partial_line_timeout: 100ms\n    read_buffer: 4KiB\n"));
  LogWriter w(d.logs_dir() + "/app.log", "b");
  w.write(60000);
  d.start_ingest();
  d.start_agent("pipeline: { batch: { max_events: 16, max_delay: 20ms } }\n");
  require_exactly_once(d, w.ids(), 180s);
  for (const ReceivedEvent& e : d.received()) {
    INFO(e.message);
    REQUIRE(e.fields.count("partial") == 0);
    REQUIRE(e.message == w.line(std::stoi(e.message.substr(2))));
  }
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("scenario 11: an over-long line is split into marked pieces",
          "[integration][file][content]") {
  Deployment d;
  d.set_collector(collector(d, "    max_line_bytes: 1KiB\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  std::string long_line = "L#1 " + std::string(4996, 'x');  // 5000 bytes: 4 pieces of 1024 + 904
  LogWriter w(d.logs_dir() + "/app.log", "L");
  w.write_raw(long_line + "\nL#2 short\n");
  REQUIRE(d.wait_for_events(6, 30s));
  std::vector<ReceivedEvent> events = in_file_order(d);
  REQUIRE(events.size() == 6);
  std::string joined;
  for (size_t i = 0; i < 5; ++i) {
    joined += events[i].message;
    std::string want = std::to_string(i + 1) + (i == 4 ? "-last" : "");
    REQUIRE(events[i].fields["split_part"] == want);
  }
  REQUIRE(joined == long_line);
  REQUIRE(events[5].message == "L#2 short");
  REQUIRE(events[5].fields.count("split_part") == 0);
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE(d.agent_log().find("lines_split=1") != std::string::npos);
}

TEST_CASE("scenario 11: an over-long line is truncated when configured and counted",
          "[integration][file][content]") {
  Deployment d;
  d.set_collector(collector(d, "    max_line_bytes: 1KiB\n    long_lines: truncate\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  std::string long_line = "T#1 " + std::string(9996, 'y');
  LogWriter w(d.logs_dir() + "/app.log", "T");
  w.write_raw(long_line + "\nT#2 short\n");
  REQUIRE(d.wait_for_events(2, 30s));
  REQUIRE_FALSE(d.wait_for_events(3, 1s));
  std::vector<ReceivedEvent> events = in_file_order(d);
  REQUIRE(events[0].message == long_line.substr(0, 1024));
  REQUIRE(events[0].fields["truncated_from"] == "10000");
  REQUIRE(events[1].message == "T#2 short");
  REQUIRE(events[1].offset == 10001);
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE(d.agent_log().find("lines_truncated=1") != std::string::npos);
}

TEST_CASE("scenario 11: a 100 MB line does not blow up the agent's memory",
          "[integration][file][content][big]") {
  Deployment d;
  d.set_collector(collector(d, ""));  // max_line_bytes: the default 1 MiB
  d.start_ingest();
  d.start_agent(kPipeline);
  constexpr size_t kLine = 100'000'000;
  {
    std::ofstream out(d.logs_dir() + "/app.log", std::ios::binary);
    out << "H#1 ";
    std::string block(1 << 20, 'z');
    for (size_t written = 4; written < kLine; written += block.size()) {
      out.write(block.data(),
                static_cast<std::streamsize>(std::min(block.size(), kLine - written)));
    }
    out << "\nH#2 after the big line\n";
  }
  constexpr size_t kPieces = (kLine + (1 << 20) - 1) / (1 << 20);  // 96
  REQUIRE(d.wait_for_events(kPieces + 1, 300s));
  std::vector<ReceivedEvent> events = in_file_order(d);
  REQUIRE(events.size() == kPieces + 1);
  size_t total = 0;
  for (size_t i = 0; i < kPieces; ++i) {
    total += events[i].message.size();
  }
  REQUIRE(total == kLine);
  REQUIRE(events[kPieces - 1].fields["split_part"] == std::to_string(kPieces) + "-last");
  REQUIRE(events[kPieces].message == "H#2 after the big line");
  uint64_t peak = proc_status_kib(d.agent().pid(), "VmHWM");
  std::printf("  100 MB line: %zu pieces, agent peak RSS %.1f MiB\n", kPieces,
              static_cast<double>(peak) / 1024.0);
#ifndef ASSAS_SANITIZED  // ASan's shadow memory and quarantine make RSS meaningless there
  REQUIRE(peak < 96 * 1024);
#endif
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE(
    "scenario 12: CRLF and invalid UTF-8 and Windows-1256 and NUL and ANSI escapes arrive "
    "unchanged",
    "[integration][file][content]") {
  Deployment d;
  d.set_collector(collector(d, ""));
  d.start_ingest();
  d.start_agent(kPipeline);
  std::vector<std::string> lines = {
      "B#1 a CRLF line\r",
      "B#2 invalid UTF-8 \xff\xfe \xc0\x80 (overlong) \xed\xa0\x80 (surrogate) end",
      // "Ministry of the Interior" in Arabic, Windows-1256, as older Moroccan systems write it.
      "B#3 \xe6\xd2\xc7\xd1\xc9 \xc7\xe1\xcf\xc7\xce\xe1\xed\xc9 login failed",
      std::string("B#4 a NUL \0 inside", 18),
      "B#5 ANSI \x1b[31mred\x1b[0m and a bell \x07",
      "B#6 quote \" backslash \\ tab \t U+2028 \xe2\x80\xa8 {\"forged\":\"key\"}",
      "B#7 UTF-8 Arabic \xd8\xa7\xd9\x84\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85 and emoji "
      "\xf0\x9f\x9b\xa1",
  };
  LogWriter w(d.logs_dir() + "/app.log", "B");
  for (const std::string& line : lines) {
    w.write_raw(line + "\n");
  }
  REQUIRE(d.wait_for_events(lines.size(), 30s));
  REQUIRE_FALSE(d.wait_for_events(lines.size() + 1, 1s));
  REQUIRE(messages_of(in_file_order(d)) == lines);
  REQUIRE(d.agent().terminate(20s) == 0);
}

namespace {

const std::string kStart =
    "    multiline: { start: '^\\d{4}-\\d{2}-\\d{2} ', max_lines: 50, timeout: 2s }\n";

// Realistic multiline events: the first line carries the id.
std::vector<std::string> traces(int id) {
  std::string n = std::to_string(id);
  return {
      "2026-11-29 10:00:00,101 INFO  j#" + n + " permits service started on port 8443",
      "2026-11-29 10:00:01,202 ERROR j#" + n +
          " request failed\n"
          "java.lang.IllegalStateException: permit store unavailable\n"
          "\tat ma.gov.permits.store.PermitStore.load(PermitStore.java:88)\n"
          "\tat ma.gov.permits.api.PermitController.get(PermitController.java:41)\n"
          "Caused by: java.net.ConnectException: Connection refused\n"
          "\tat java.base/sun.nio.ch.Net.connect0(Native Method)\n"
          "\t... 12 more",
      "2026-11-29 10:00:02 ERROR j#" + n +
          " sensor worker crashed\n"
          "Traceback (most recent call last):\n"
          "  File \"/opt/city/worker.py\", line 52, in <module>\n"
          "    main()\n"
          "  File \"/opt/city/worker.py\", line 40, in main\n"
          "    rate = count / window\n"
          "ZeroDivisionError: division by zero",
      "2026-11-29 10:00:03 FATAL j#" + n +
          " traffic controller panic\n"
          "panic: runtime error: index out of range [5] with length 3\n"
          "\n"
          "goroutine 1 [running]:\n"
          "main.phase(...)\n"
          "\t/src/traffic/main.go:27 +0x1d\n"
          "main.main()\n"
          "\t/src/traffic/main.go:12 +0x25\n"
          "exit status 2",
  };
}

}  // namespace

TEST_CASE("scenario 13: Java and Python and Go traces become one event each",
          "[integration][file][content][multiline]") {
  Deployment d;
  d.set_collector(collector(d, kStart));
  d.start_ingest();
  d.start_agent(kPipeline);
  LogWriter w(d.logs_dir() + "/app.log", "j");
  std::vector<std::string> expected = traces(1);
  std::vector<std::string> second = traces(2);
  expected.insert(expected.end(), second.begin(), second.end());
  // 60 continuation lines: cut at max_lines (50), the rest is an event of its own.
  std::string big = "2026-11-29 10:00:04 ERROR j#3 deep recursion";
  std::string head = big;
  std::string tail;
  for (int i = 1; i <= 60; ++i) {
    std::string frame = "\tat ma.gov.Deep.call(Deep.java:" + std::to_string(i) + ")";
    big += "\n" + frame;
    (i < 50 ? head : tail) += (i < 50 ? "\n" : (i == 50 ? "" : "\n")) + frame;
  }
  expected.push_back(head);
  expected.push_back(tail);
  for (const std::string& event : expected) {
    if (event != head && event != tail) {
      w.write_raw(event + "\n");
    }
  }
  w.write_raw(big + "\n");
  // The last event has no start line after it: the timeout sends it.
  REQUIRE(d.wait_for_events(expected.size(), 30s));
  REQUIRE_FALSE(d.wait_for_events(expected.size() + 1, 1s));
  REQUIRE(messages_of(in_file_order(d)) == expected);
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("scenario 13: a multiline event split across a rotation is still one event",
          "[integration][file][content][multiline][rotation]") {
  Deployment d;
  d.set_collector(collector(d, kStart));
  d.start_ingest();
  d.start_agent(kPipeline);
  LogWriter w(d.logs_dir() + "/app.log", "j");
  w.write_raw("2026-11-29 10:00:00 INFO j#1 before\n");
  w.write_raw(
      "2026-11-29 10:00:01 ERROR j#2 across the rotation\n"
      "java.io.IOException: disk quota exceeded\n");
  REQUIRE(d.wait_for_events(1, 30s));  // j#1 sent; j#2 waits for more lines
  w.rename_rotate(5);
  w.reopen();
  w.write_raw(
      "\tat ma.gov.archive.Writer.flush(Writer.java:120)\n"
      "\tat ma.gov.archive.Job.run(Job.java:33)\n"
      "2026-11-29 10:00:02 INFO j#3 after\n");
  REQUIRE(d.wait_for_events(3, 30s));
  REQUIRE_FALSE(d.wait_for_events(4, 1s));
  std::vector<std::string> got = messages_of(d.received());
  std::sort(got.begin(), got.end());
  REQUIRE(got == std::vector<std::string>{"2026-11-29 10:00:00 INFO j#1 before",
                                          "2026-11-29 10:00:01 ERROR j#2 across the rotation\n"
                                          "java.io.IOException: disk quota exceeded\n"
                                          "\tat ma.gov.archive.Writer.flush(Writer.java:120)\n"
                                          "\tat ma.gov.archive.Job.run(Job.java:33)",
                                          "2026-11-29 10:00:02 INFO j#3 after"});
  REQUIRE(d.agent().terminate(20s) == 0);
}

namespace {

// Scenario 13 with 14: multiline events written without pause, the agent stopped mid-way.
void multiline_restart(bool kill) {
  Deployment d;
  d.set_collector(collector(d, kStart));
  d.start_ingest();
  d.start_agent(kPipeline);
  LogWriter w(d.logs_dir() + "/app.log", "j");
  std::vector<std::string> expected;
  for (int i = 0; i < 1500; ++i) {
    if (i == 600) {
      REQUIRE(d.wait_for_events(300, 60s));  // mid-stream: some events are through, some not
      if (kill) {
        d.agent().kill9();
      } else {
        REQUIRE(d.agent().terminate(20s) == 0);
      }
    }
    if (i == 900) {
      d.start_agent(kPipeline);
    }
    std::string event = traces(i)[static_cast<size_t>(i % 4)];
    expected.push_back(event);
    w.write_raw(event + "\n");
  }
  std::vector<std::string> ids;
  for (int i = 0; i < 1500; ++i) {
    ids.push_back("j#" + std::to_string(i));
  }
  require_exactly_once(d, ids);
  REQUIRE(messages_of(in_file_order(d)) == expected);  // and every event whole
  REQUIRE(d.agent().terminate(20s) == 0);
}

}  // namespace

TEST_CASE("scenario 13+14: multiline events with the agent stopped by SIGTERM mid-way",
          "[integration][file][content][multiline][restart]") {
  multiline_restart(false);
}

TEST_CASE("scenario 13+14: multiline events with the agent killed by kill -9 mid-way",
          "[integration][file][content][multiline][restart]") {
  multiline_restart(true);
}

}  // namespace assas::test
