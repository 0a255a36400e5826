#!/usr/bin/env bash
# Calls we do not allow outside the one place that wraps them, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
ban() {  # pattern, allowed-file-regex, reason
  local hits
  hits=$(git grep -nE "$1" -- '*.cpp' '*.h' ':!tests/' | grep -vE "^($2):" || true)
  if [ -n "$hits" ]; then
    echo "banned: $3"; echo "$hits" | sed 's/^/  /'; status=1
  fi
}
ban 'ZSTD_decompress\(' '^$' \
  'ZSTD_decompress trusts the frame; use Decompressor (bounded by the declared size)'
ban 'SSL_VERIFY_NONE' '^$' 'TLS verification is never switched off'
# The one other thread: an engine output's publisher (NATS, Kafka), whose client library blocks,
# and which must not hold up the Worker's fsyncs.
ban 'std::thread' 'agent/worker\.(h|cpp)|transport/broker/broker_output\.(h|cpp)' \
  'threads live in agent/worker (and the engine outputs publisher) only'
# agent_assembly.cpp runs a private loop that holds nothing but the outputs of a config being
# checked (--check, SIGHUP): never the loop whose callback it is called from.
ban '[^_a-z]uv_run\(' '(agent|ingest)/main\.cpp|agent/agent_assembly\.cpp' \
  'uv_run only in main (and on the private loop that checks a config), never inside a callback'
ban 'std::regex' '^$' 'std::regex is slow and recurses on long lines; use PCRE2'
exit $status
