#!/usr/bin/env bash
# End-to-end benchmark (not a test): ships one log file over loopback with Assas (TLS 1.3, zstd,
# durable disk buffer, receiver fsync before ack: the defaults) and with rsyslog from Debian
# (imfile -> omfwd over plain TCP -> a second rsyslogd with imtcp -> file), and prints one summary
# line per system plus our figures as ratios to rsyslog's. Medians over --runs runs.
#
#   bench/e2e.sh [--size 1GB] [--runs 3] [--only assas] [--files N]
#   bench/e2e.sh --integrity [--size 1GB] [--runs 3]
#
# --files N splits the corpus into N files that both senders follow through one glob (many small
# logs, as on a gateway; the idle figures then show the cost of following N files).
#
# --integrity compares Assas with itself instead: the hash chain on (the default) and off
# (integrity.chain: false), run after run, with the receiver's CPU too (it hashes every event again).
#
# Figures: lines/s and MB/s from the sender's start until the receiver holds every line; sender CPU
# seconds per GB (utime+stime from /proc); peak RSS (VmHWM); then 10 s of idle: RSS and CPU %.
set -euo pipefail
cd "$(dirname "$0")/.."
size=1GB; runs=3; only=""; files=1; integrity=""
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --integrity) integrity=1; only=assas; shift ;;
    *) echo "usage: bench/e2e.sh [--size 1GB] [--runs 3] [--only assas|rsyslog] [--files N] [--integrity]"; exit 2 ;;
  esac
done
command -v rsyslogd >/dev/null || [ "$only" = assas ] || { echo "rsyslogd missing: apt-get install -y rsyslog"; exit 1; }

source bench/lib.sh
corpus=$out/corpus-$size.log
[ -f "$corpus" ] || python3 bench/make_corpus.py "$size" "$corpus"
lines=$(wc -l < "$corpus"); bytes=$(stat -c %s "$corpus")
echo "corpus: $corpus ($lines lines, $bytes bytes)"
follow=$corpus  # what both senders follow: the corpus, or a glob over its parts
if [ "$files" -gt 1 ]; then
  parts=$out/corpus-$size-in-$files
  if [ ! -d "$parts" ]; then
    mkdir -p "$parts.tmp" && split -n "l/$files" -d -a 6 --additional-suffix=.log "$corpus" "$parts.tmp/part-"
    mv "$parts.tmp" "$parts"
  fi
  follow="$parts/*.log"
  echo "split into $files files: $follow"
fi

build_release

# Measures one sender: waits for every line, then idles 10 s. Prints the figures as key=value.
measure() {  # sender_pid received_glob start_ns
  local pid=$1 glob=$2 start=$3
  local got; got=$(python3 bench/count_lines.py "$glob" "$lines" 1800) || true
  local end; end=$(date +%s%N)
  local cpu; cpu=$(cpu_ticks "$pid"); local hwm; hwm=$(status_kib "$pid" VmHWM)
  sleep 1; got=$(python3 bench/count_lines.py "$glob" 0 0)
  local idle0; idle0=$(cpu_ticks "$pid"); sleep 10; local idle1; idle1=$(cpu_ticks "$pid")
  local rss; rss=$(status_kib "$pid" VmRSS); local anon; anon=$(status_kib "$pid" RssAnon)
  awk -v l="$lines" -v b="$bytes" -v s="$start" -v e="$end" -v c="$cpu" -v t="$tick" -v h="$hwm" \
      -v r="$rss" -v a="$anon" -v i0="$idle0" -v i1="$idle1" -v g="$got" 'BEGIN {
    secs = (e - s) / 1e9
    printf "lines_s=%.0f MB_s=%.1f cpu_s_per_GB=%.2f peak_rss_MiB=%.1f idle_rss_MiB=%.1f idle_anon_MiB=%.1f idle_cpu_pct=%.2f delivered=%d/%d\n",
      l / secs, b / 1e6 / secs, (c / t) / (b / 1e9), h / 1024, r / 1024, a / 1024, (i1 - i0) / t / 10 * 100, g, l }'
}

run_assas() {  # [chain: true|false]
  local chain=${1:-true}
  local dir=$out/assas-run; rm -rf "$dir"; mkdir -p "$dir"; chmod 700 "$dir"
  start_ingest "$dir"
  { cat <<YAML
agent: { id: bench-agent, data_dir: $dir/agent-data }
collectors:
  - { type: file, name: bench, paths: ["$follow"], start_at: beginning }
integrity: { chain: $chain }
YAML
    assas_output_yaml "$dir"; } > "$dir/agent.yaml"
  local start; start=$(date +%s%N)
  "$bin/assas-agent" --config "$dir/agent.yaml" 2> "$dir/agent.log" & local agent=$!; pids+=("$agent")
  local figures; figures=$(measure "$agent" "$dir/ingest-data/bench-agent/events-*.jsonl" "$start")
  # The receiver's CPU over the whole run (it idles with the agent for the last 10 s).
  echo "$figures $(awk -v c="$(cpu_ticks "$ingest_pid")" -v t="$tick" -v b="$bytes" \
    'BEGIN { printf "ingest_cpu_s_per_GB=%.2f", (c / t) / (b / 1e9) }')"
  stop_pid "$agent"; stop_pid "$ingest_pid"
}

run_rsyslog() {
  local dir=$out/rsyslog-run; rm -rf "$dir"; mkdir -p "$dir/send"
  start_rsyslog_receiver "$dir"
  cat > "$dir/send.conf" <<CONF
global(workDirectory="$dir/send")
module(load="imfile")
input(type="imfile" file="$follow" tag="bench" freshStartTail="off" ruleset="fwd")
ruleset(name="fwd") { action(type="omfwd" target="127.0.0.1" port="$recv_port" protocol="tcp") }
CONF
  sleep 1
  local start; start=$(date +%s%N)
  rsyslogd -n -f "$dir/send.conf" -i "$dir/send.pid" 2> "$dir/send.log" & local send=$!; pids+=("$send")
  measure "$send" "$dir/received.log" "$start"
  stop_pid "$send"; stop_pid "$recv_pid"
}

: > "$out/assas.txt"; : > "$out/rsyslog.txt"
if [ -n "$integrity" ]; then
  : > "$out/assas-nochain.txt"
  for r in $(seq "$runs"); do
    run_assas true | tee -a "$out/assas.txt" | sed "s/^/run $r chain on  /"
    run_assas false | tee -a "$out/assas-nochain.txt" | sed "s/^/run $r chain off /"
  done
  keys="lines_s MB_s cpu_s_per_GB ingest_cpu_s_per_GB peak_rss_MiB"
  echo "== medians of $runs runs, $size, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  summary "chain on " "$out/assas.txt" $keys
  summary "chain off" "$out/assas-nochain.txt" $keys
  ratio_label="chain on/off" ratio_note="" \
    ratios "$out/assas.txt" "$out/assas-nochain.txt" lines_s cpu_s_per_GB ingest_cpu_s_per_GB
  exit 0
fi
for r in $(seq "$runs"); do
  if [ "$only" != rsyslog ]; then run_assas | tee -a "$out/assas.txt" | sed "s/^/run $r assas   /"; fi
  if [ "$only" != assas ]; then run_rsyslog | tee -a "$out/rsyslog.txt" | sed "s/^/run $r rsyslog /"; fi
done

keys="lines_s MB_s cpu_s_per_GB peak_rss_MiB idle_rss_MiB idle_anon_MiB idle_cpu_pct"
echo "== medians of $runs runs, $size in $files file(s), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
summary "assas  " "$out/assas.txt" $keys
summary "rsyslog" "$out/rsyslog.txt" $keys
ratios "$out/assas.txt" "$out/rsyslog.txt" lines_s cpu_s_per_GB peak_rss_MiB
