#!/usr/bin/env bash
# Kafka output benchmark (not a test): one file of N lines, read from its start by a fresh
# assas-agent and shipped over loopback, in the same run, to
#   kafka   type: kafka -> librdkafka's MOCK CLUSTER (rdkafka_mock.h: 3 in-process brokers, topic of
#           6 partitions, replication 3) in bench/kafka_mock_sink.cpp. It is NOT Kafka: no disk, no
#           replication traffic; it measures the agent's side (JSON per event, librdkafka's
#           idempotent producer, zstd) and the mock's own CPU comes on top on the same cores.
#   assas   type: assas -> assas-ingest (TLS 1.3, fdatasync before each ack), for the ratio.
# The Kafka output runs plaintext (the mock has no TLS); the assas output keeps its TLS.
#
#   bench/kafka.sh [--lines 300000] [--runs 3] [--bin DIR]
#
# --bin: take assas-agent and assas-ingest from DIR instead of building the Release build in build/.
# Figures per case: lines/s and MB/s (input file bytes) from the agent's start until the receiver
# holds every line (the mock's high watermarks, or count_lines.py, every 0.1 s); the agent's CPU
# seconds per million lines and its peak RSS (VmHWM). Medians over --runs runs, then kafka/assas.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=300000; runs=3; bin_dir=""
usage() { echo "usage: bench/kafka.sh [--lines 300000] [--runs 3] [--bin DIR]"; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --lines) lines=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --bin) bin_dir=$2; shift 2 ;;
    *) usage ;;
  esac
done

source bench/lib.sh
if [ -n "$bin_dir" ]; then bin=$(cd "$bin_dir" && pwd); else build_release; fi
sink=$out/kafka_mock_sink
# shellcheck disable=SC2046  # pkg-config's flags are words
g++ -O2 -std=c++20 -o "$sink" bench/kafka_mock_sink.cpp $(pkg-config --cflags --libs rdkafka)

# The input, as bench/outputs.sh makes it: the first N lines of a make_corpus.py corpus.
corpus=$out/corpus-$lines-lines.log
if [ ! -f "$corpus" ]; then
  python3 bench/make_corpus.py "$((lines * 200 / 1000000 + 1))MB" "$corpus.src" >/dev/null
  head -n "$lines" "$corpus.src" > "$corpus.tmp"; rm -f "$corpus.src"
  [ "$(wc -l < "$corpus.tmp")" -eq "$lines" ] || { echo "corpus too short: $corpus.tmp" >&2; exit 1; }
  mv "$corpus.tmp" "$corpus"
fi
bytes=$(stat -c %s "$corpus")
echo "corpus: $corpus ($lines lines, $bytes bytes)"
timeout=$((120 + lines / 5000))

start_agent() {  # dir, output yaml; sets agent_pid and start
  local dir=$1
  { cat <<YAML
agent: { id: bench-agent, data_dir: $dir/agent-data }
collectors:
  - { type: file, name: bench, paths: ["$corpus"], start_at: beginning }
YAML
    echo "$2"; } > "$dir/agent.yaml"
  start=$(date +%s%N)
  "$bin/assas-agent" --config "$dir/agent.yaml" 2> "$dir/agent.log" & agent_pid=$!; pids+=("$agent_pid")
}

wait_count_file() {  # file, n, timeout s: prints the count once >= n (or the last one seen)
  local got=0 deadline=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$deadline" ]; do
    got=$(cat "$1" 2>/dev/null || echo 0)
    [ "$got" -ge "$2" ] && break
    sleep 0.1
  done
  echo "$got"
}

run_case() {  # case -> one line of figures
  local dir=$out/kafka-$1-run; rm -rf "$dir"; mkdir -p "$dir"; chmod 700 "$dir"
  local got
  if [ "$1" = kafka ]; then
    "$sink" bench.events 6 "$dir/count" > "$dir/sink.out" 2> "$dir/sink.log" & sink_pid=$!; pids+=("$sink_pid")
    for _ in $(seq 100); do grep -q bootstraps= "$dir/sink.out" 2>/dev/null && break; sleep 0.05; done
    local endpoints; endpoints=$(sed -n 's/^bootstraps=//p' "$dir/sink.out" | sed 's/\([^,]*\)/"\1"/g')
    start_agent "$dir" "outputs:
  - type: kafka
    endpoints: [$endpoints]
    transport: tcp   # the mock cluster speaks neither TLS nor SASL
    topic: bench.events"
    got=$(wait_count_file "$dir/count" "$lines" "$timeout")
  else
    start_ingest "$dir"
    start_agent "$dir" "$(assas_output_yaml "$dir")"
    got=$(python3 bench/count_lines.py "$dir/ingest-data/bench-agent/events-*.jsonl" "$lines" "$timeout" 0.1) || true
  fi
  local end; end=$(date +%s%N)
  local cpu; cpu=$(cpu_ticks "$agent_pid" 2>/dev/null || echo 0)
  local hwm; hwm=$(status_kib "$agent_pid" VmHWM 2>/dev/null || echo 0)
  local warn; warn=$(awk '$3 == "warn" || $3 == "error"' "$dir/agent.log" | wc -l)
  [ "$got" -ge "$lines" ] || { echo "$1: the receiver holds $got of $lines lines; agent log tail:" >&2; tail -5 "$dir/agent.log" >&2; }
  stop_pid "$agent_pid"
  if [ "$1" = kafka ]; then stop_pid "$sink_pid"; else stop_pid "$ingest_pid"; fi
  rm -rf "$dir/agent-data" "$dir/ingest-data"
  awk -v n="$lines" -v b="$bytes" -v s="$start" -v e="$end" -v c="$cpu" -v t="$tick" -v h="$hwm" \
      -v g="$got" -v w="$warn" 'BEGIN {
    secs = (e - s) / 1e9
    printf "lines_s=%.0f MB_s=%.1f cpu_s_per_M=%.2f peak_rss_MiB=%.1f total_s=%.2f delivered=%d/%d agent_warnings=%d\n",
      n / secs, b / 1e6 / secs, (c / t) / (n / 1e6), h / 1024, secs, g, n, w }'
}

cases="kafka assas"
for c in $cases; do : > "$out/kafka-$c.txt"; done
for r in $(seq "$runs"); do
  for c in $cases; do
    run_case "$c" >> "$out/kafka-$c.txt"
    printf 'run %s %-6s %s\n' "$r" "$c" "$(tail -1 "$out/kafka-$c.txt")"
  done
done

keys="lines_s MB_s cpu_s_per_M peak_rss_MiB total_s"
echo "== medians of $runs runs, $lines lines ($bytes bytes), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "   kafka = librdkafka's in-process mock cluster, not Kafka"
for c in $cases; do printf '%-6s %s\n' "$c" "$(summary "" "$out/kafka-$c.txt" $keys | sed 's/^ //')"; done
line="ratio (kafka/assas)"
for k in lines_s cpu_s_per_M peak_rss_MiB; do
  line="$line $k=$(awk -v a="$(median "$k" "$out/kafka-kafka.txt")" -v b="$(median "$k" "$out/kafka-assas.txt")" 'BEGIN {printf "%.2fx", a / b}')"
done
echo "$line"
