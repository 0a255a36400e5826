#!/usr/bin/env bash
# Deep mode (not run by CI: it takes longer than CI's budget): ThreadSanitizer over every hand-off
# between the loop thread and the other threads: the Worker's compression and fsyncs (agent/worker,
# the disk buffer, the pipeline), an engine output's publisher thread (transport/broker), the
# receiver's store jobs on libuv's thread pool, and the real programs end to end.
#   scripts/tsan.sh                 unit tests, then the integration tests named below
#   scripts/tsan.sh --unit-only     unit tests only
# A data race fails the test that ran into it (halt_on_error), with both stacks printed.
set -euo pipefail
cd "$(dirname "$0")/.."
unit_only=0
[ "${1:-}" = "--unit-only" ] && unit_only=1
scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build-tsan -G Ninja -DASSAS_WERROR=ON -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" -DASSAS_SANITIZE=thread -DASSAS_TEST_TIMEOUT_MULTIPLIER=6 >/dev/null
cmake --build build-tsan -j"$jobs"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
cd build-tsan
ctest -j"$jobs" --output-on-failure -L unit
if [ $unit_only -eq 0 ]; then
  # The integration tests whose processes cross threads the most: shipping with the Worker under
  # load, a crash and restart, the receiver's store jobs with many agents, and the engine outputs.
  ctest -j"$jobs" --output-on-failure -L integration \
    -R 'scenario 1:|kill -9 of the agent mid-stream|fault 2:|200 agents|issue 9:|broker|in Kafka|two agents ship'
fi
echo "== no data race found"
