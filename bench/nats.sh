#!/usr/bin/env bash
# NATS JetStream output benchmark (not a test): one file of N lines, read from its start by a fresh
# assas-agent and shipped over loopback, once per case, in the same run:
#   nats   assas-agent (type: nats, publish: batch, TCP) -> a 3-node nats-server cluster on
#          127.0.0.1, stream created by the agent (replicas 3, file storage), read back by an
#          ephemeral pull consumer (bench/nats_consume.py) into a file
#   assas  assas-agent (type: assas)                     -> assas-ingest (fdatasync before acks)
#
#   bench/nats.sh [--lines 300000] [--runs 3] [--only nats|assas] [--bin DIR]
#
# --bin: where assas-agent and assas-ingest are (default: the Release build of lib.sh).
# Figures per case: lines/s and MB/s (input file bytes) from the agent's start until the SIEM's
# side holds every line (count_lines.py every 0.1 s: the consumer's file for nats, assas-ingest's
# files for assas); the agent's CPU seconds per million lines and peak RSS; the receivers' CPU
# seconds per million (the three nats-servers together); delivered = lines held 1 s after the last
# one / N, ids=ok when check_ids.py finds each id exactly once. Medians over the runs, then the
# nats medians as ratios to assas's.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=300000; runs=3; only=""; bin_dir=""
usage() { echo "usage: bench/nats.sh [--lines 300000] [--runs 3] [--only nats|assas] [--bin DIR]"; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --lines) lines=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --bin) bin_dir=$2; shift 2 ;;
    *) usage ;;
  esac
done
case "$only" in ""|nats|assas) ;; *) usage ;; esac
cases=${only:-"nats assas"}
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || { echo "nats-server missing: apt-get install -y nats-server"; exit 1; }

source bench/lib.sh
if [ -n "$bin_dir" ]; then bin=$(cd "$bin_dir" && pwd); else build_release; fi

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

# Three JetStream nodes on free ports with their stores in DIR; sets nats_pids and nats_endpoints.
start_cluster() {  # dir
  local dir=$1 i j routes="" cports=() rports=()
  for i in 0 1 2; do cports+=("$(free_port)"); rports+=("$(free_port)"); done
  for j in 0 1 2; do routes="$routes nats-route://127.0.0.1:${rports[$j]}"; done
  nats_pids=(); nats_endpoints=""
  for i in 0 1 2; do
    cat > "$dir/n$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:${cports[$i]}
jetstream { store_dir: "$dir/store$i" }
cluster { name: bench, listen: 127.0.0.1:${rports[$i]}, routes: [$(echo $routes | tr ' ' ',')] }
CONF
    /usr/sbin/nats-server -c "$dir/n$i.conf" 2> "$dir/n$i.log" & nats_pids+=("$!"); pids+=("$!")
    nats_endpoints="$nats_endpoints${nats_endpoints:+, }\"127.0.0.1:${cports[$i]}\""
  done
  for i in 0 1 2; do
    for _ in $(seq 200); do grep -q "Server is ready" "$dir/n$i.log" && break; sleep 0.1; done
  done
  nats_first=127.0.0.1:${cports[0]}
}

start_agent() {  # dir, output yaml; sets fwd_pid and start
  local dir=$1
  { cat <<YAML
agent: { id: bench-agent, data_dir: $dir/agent-data }
collectors:
  - { type: file, name: bench, paths: ["$corpus"], start_at: beginning }
YAML
    echo "$2"; } > "$dir/fwd.yaml"
  start=$(date +%s%N)
  "$bin/assas-agent" --config "$dir/fwd.yaml" 2> "$dir/fwd.log" & fwd_pid=$!; pids+=("$fwd_pid")
}

recv_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0))); done; echo "$t"; }

measure() {  # dir glob receiver-pids...
  local dir=$1 glob=$2; shift 2
  local got; got=$(python3 bench/count_lines.py "$glob" "$lines" "$timeout" 0.1) || true
  local end; end=$(date +%s%N)
  local cpu; cpu=$(cpu_ticks "$fwd_pid" 2>/dev/null || echo 0)
  local hwm; hwm=$(status_kib "$fwd_pid" VmHWM 2>/dev/null || echo 0)
  local rcpu; rcpu=$(recv_ticks "$@")
  sleep 1; got=$(python3 bench/count_lines.py "$glob" 0 0)
  local ids; ids=$(python3 bench/check_ids.py "$glob" "$lines") || true
  local warn; warn=$(awk '$3 == "warn" || $3 == "error"' "$dir/fwd.log" | wc -l)
  [ "$got" -eq "$lines" ] || { echo "$case: $got of $lines lines; agent log tail:" >&2; tail -5 "$dir/fwd.log" >&2; }
  awk -v n="$lines" -v b="$bytes" -v s="$start" -v e="$end" -v c="$cpu" -v t="$tick" -v h="$hwm" \
      -v rc="$rcpu" -v g="$got" -v ids="$ids" -v w="$warn" 'BEGIN {
    secs = (e - s) / 1e9
    printf "lines_s=%.0f MB_s=%.1f cpu_s_per_M=%.2f peak_rss_MiB=%.1f recv_cpu_s_per_M=%.2f total_s=%.2f delivered=%d/%d %s fwd_warnings=%d\n",
      n / secs, b / 1e6 / secs, (c / t) / (n / 1e6), h / 1024, (rc / t) / (n / 1e6), secs, g, n, ids, w }'
}

run_case() {
  local dir=$out/nats-$case-run; rm -rf "$dir"; mkdir -p "$dir"; chmod 700 "$dir"
  case "$case" in
    nats)
      start_cluster "$dir"
      start_agent "$dir" "outputs:
  - type: nats
    endpoints: [$nats_endpoints]
    transport: tcp
    subject: \"logs.{agent}.{collector}\"
    stream: { name: LOGS, create: true, replicas: 3, duplicate_window: 1h }"
      for _ in $(seq 300); do grep -q "stream created" "$dir/fwd.log" && break; sleep 0.1; done
      python3 bench/nats_consume.py "$nats_first" LOGS "logs.>" "$dir/received.jsonl" & cons_pid=$!; pids+=("$cons_pid")
      measure "$dir" "$dir/received.jsonl" "${nats_pids[@]}"
      stop_pid "$fwd_pid"; stop_pid "$cons_pid"
      for p in "${nats_pids[@]}"; do stop_pid "$p"; done
      rm -rf "$dir"/store* "$dir/received.jsonl" ;;
    assas)
      start_ingest "$dir"
      start_agent "$dir" "$(assas_output_yaml "$dir")"
      measure "$dir" "$dir/ingest-data/bench-agent/events-*.jsonl" "$ingest_pid"
      stop_pid "$fwd_pid"; stop_pid "$ingest_pid"
      rm -rf "$dir/ingest-data" ;;
  esac
  rm -rf "$dir/agent-data"
}

for c in $cases; do : > "$out/nats-$c.txt"; done
for r in $(seq "$runs"); do
  for case in $cases; do
    run_case >> "$out/nats-$case.txt"
    printf 'run %s %-6s %s\n' "$r" "$case" "$(tail -1 "$out/nats-$case.txt")"
  done
done

keys="lines_s MB_s cpu_s_per_M peak_rss_MiB recv_cpu_s_per_M total_s"
echo "== medians of $runs runs, $lines lines ($bytes bytes), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for c in $cases; do
  [ -s "$out/nats-$c.txt" ] || continue
  printf '%-6s %s ids=%s\n' "$c" "$(summary "" "$out/nats-$c.txt" $keys | sed 's/^ //')" \
    "$(grep -oE 'ids=[^ ]+' "$out/nats-$c.txt" | cut -d= -f2 | paste -sd' ')"
done
if [ -s "$out/nats-nats.txt" ] && [ -s "$out/nats-assas.txt" ]; then
  line="ratio (nats/assas)"
  for k in lines_s cpu_s_per_M peak_rss_MiB; do
    line="$line $k=$(awk -v a="$(median "$k" "$out/nats-nats.txt")" -v b="$(median "$k" "$out/nats-assas.txt")" 'BEGIN {printf "%.2fx", a / b}')"
  done
  echo "$line"
fi
