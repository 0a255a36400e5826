#!/usr/bin/env bash
# Syslog benchmark (not a test): one sender blasts N RFC 5424 messages, octet-counted (RFC 6587),
# over one TCP connection on loopback into a forwarding agent, which ships them to its receiver:
#   Assas:   syslog_blast.py -> assas-agent (type: syslog, tcp) -> TLS 1.3, zstd, durable disk
#            buffer -> assas-ingest (fdatasync before ack) -> events-*.jsonl
#   rsyslog: syslog_blast.py -> rsyslogd (imtcp -> omfwd, plain TCP) -> rsyslogd (imtcp -> omfile)
# and prints one summary line per system plus our figures as ratios to rsyslog's. Medians over
# --runs runs.
#
#   bench/syslog.sh [--messages 1000000] [--runs 3] [--only assas|rsyslog]
#
# Figures: messages/s and MB/s (framed bytes on the wire) from the first byte sent until the
# receiver holds every message; the forwarding agent's CPU seconds (utime+stime from /proc) per
# million messages; its peak RSS (VmHWM); delivered = lines the receiver holds / messages sent.
# Also the receiver's CPU seconds per million (assas-ingest / the receiving rsyslogd): it shares
# the two cores with the sender and the forwarder, so it bounds the end-to-end rate. send_s: how
# long the sender's blocking writes took (close to the total: the forwarder's intake held it back).
set -euo pipefail
cd "$(dirname "$0")/.."
messages=1000000; runs=3; only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --messages) messages=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: bench/syslog.sh [--messages 1000000] [--runs 3] [--only assas|rsyslog]"; exit 2 ;;
  esac
done
command -v rsyslogd >/dev/null || [ "$only" = assas ] || { echo "rsyslogd missing: apt-get install -y rsyslog"; exit 1; }
source bench/lib.sh
build_release
timeout=$((120 + messages / 10000))  # seconds to wait for every message: ample at 10k/s

# Runs the sender into PORT, waits until GLOB holds every message, prints the figures of the
# forwarding agent PID (and the receiver's CPU) as key=value.
measure() {  # forwarder_pid receiver_pid port received_glob dir
  local pid=$1 rpid=$2 port=$3 glob=$4 dir=$5
  python3 bench/syslog_blast.py "$port" "$messages" > "$dir/blast.out" 2> "$dir/blast.err" &
  local blast=$!; pids+=("$blast")
  local got; got=$(python3 bench/count_lines.py "$glob" "$messages" "$timeout" 0.05) || true
  local end; end=$(date +%s%N)
  local cpu; cpu=$(cpu_ticks "$pid"); local hwm; hwm=$(status_kib "$pid" VmHWM)
  local rcpu; rcpu=$(cpu_ticks "$rpid")
  wait "$blast" || { echo "sender failed: $(cat "$dir/blast.err")" >&2; return 1; }
  sleep 1; got=$(python3 bench/count_lines.py "$glob" 0 0)  # and nothing more than N arrives
  local start; start=$(grep -oE 'start_ns=[0-9]+' "$dir/blast.out" | cut -d= -f2)
  local bytes; bytes=$(grep -oE 'bytes=[0-9]+' "$dir/blast.out" | cut -d= -f2)
  local sent; sent=$(grep -oE 'sent_ns=[0-9]+' "$dir/blast.out" | cut -d= -f2)
  awk -v n="$messages" -v b="$bytes" -v s="$start" -v e="$end" -v c="$cpu" -v t="$tick" -v h="$hwm" \
      -v rc="$rcpu" -v sn="$sent" -v g="$got" 'BEGIN {
    secs = (e - s) / 1e9
    printf "msgs_s=%.0f MB_s=%.1f cpu_s_per_M=%.2f peak_rss_MiB=%.1f recv_cpu_s_per_M=%.2f send_s=%.2f total_s=%.2f delivered=%d/%d\n",
      n / secs, b / 1e6 / secs, (c / t) / (n / 1e6), h / 1024, (rc / t) / (n / 1e6), (sn - s) / 1e9, secs, g, n }'
}

run_assas() {
  local dir=$out/syslog-assas-run; rm -rf "$dir"; mkdir -p "$dir"; chmod 700 "$dir"
  start_ingest "$dir"
  { cat <<YAML
agent: { id: bench-agent, data_dir: $dir/agent-data }
collectors: [ { type: syslog, name: net, tcp: { listen: ["127.0.0.1:0"] } } ]
YAML
    assas_output_yaml "$dir"; } > "$dir/agent.yaml"
  "$bin/assas-agent" --config "$dir/agent.yaml" 2> "$dir/agent.log" & local agent=$!; pids+=("$agent")
  local port; port=$(wait_log "$dir/agent.log" 'syslog listener ready.*transport=tcp.*port=[0-9]+')
  measure "$agent" "$ingest_pid" "$port" "$dir/ingest-data/bench-agent/events-*.jsonl" "$dir"
  stop_pid "$agent"; stop_pid "$ingest_pid"
}

run_rsyslog() {
  local dir=$out/syslog-rsyslog-run; rm -rf "$dir"; mkdir -p "$dir/send"
  start_rsyslog_receiver "$dir"
  local port; port=$(free_port)
  cat > "$dir/send.conf" <<CONF
global(workDirectory="$dir/send")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="$port" ruleset="fwd")
ruleset(name="fwd") { action(type="omfwd" target="127.0.0.1" port="$recv_port" protocol="tcp") }
CONF
  rsyslogd -n -f "$dir/send.conf" -i "$dir/send.pid" 2> "$dir/send.log" & local send=$!; pids+=("$send")
  sleep 1  # both up (the sender retries its connection until imtcp listens)
  measure "$send" "$recv_pid" "$port" "$dir/received.log" "$dir"
  stop_pid "$send"; stop_pid "$recv_pid"
}

# Runs in this shell (not in a pipeline's subshell), so the EXIT trap sees every pid.
: > "$out/syslog-assas.txt"; : > "$out/syslog-rsyslog.txt"
for r in $(seq "$runs"); do
  if [ "$only" != rsyslog ]; then
    run_assas >> "$out/syslog-assas.txt"; echo "run $r assas   $(tail -1 "$out/syslog-assas.txt")"
  fi
  if [ "$only" != assas ]; then
    run_rsyslog >> "$out/syslog-rsyslog.txt"; echo "run $r rsyslog $(tail -1 "$out/syslog-rsyslog.txt")"
  fi
done

keys="msgs_s MB_s cpu_s_per_M peak_rss_MiB recv_cpu_s_per_M send_s total_s"
echo "== medians of $runs runs, $messages messages over one TCP connection, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
summary "assas  " "$out/syslog-assas.txt" $keys
summary "rsyslog" "$out/syslog-rsyslog.txt" $keys
ratios "$out/syslog-assas.txt" "$out/syslog-rsyslog.txt" msgs_s cpu_s_per_M peak_rss_MiB
