# Helpers shared by bench/e2e.sh and bench/syslog.sh. Sourced from the repository root, after
# `set -euo pipefail`; sets root, out, bin, tick and pids.
root=$(pwd)
out=$root/bench/out; mkdir -p "$out"; chmod 700 "$out"
bin=$root/build/bin
tick=$(getconf CLK_TCK)

# The Release build of the two binaries; -j2: the benchmark machine has two shared cores.
build_release() {
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build --target assas-agent assas-ingest -j2 >/dev/null
}

# Every process a benchmark starts goes into pids; whatever is still running at exit is killed.
pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
stop_pid() { kill -TERM "$1" 2>/dev/null || true; for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; kill -KILL "$1" 2>/dev/null || true; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_log() {  # log file, extended regex ending in port=[0-9]+; prints the port
  for _ in $(seq 200); do
    p=$(grep -oE "$2" "$1" 2>/dev/null | head -1 | sed 's/.*port=//') || true
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.05
  done
  echo "did not start: $(cat "$1")" >&2; return 1
}
wait_listening() { wait_log "$1" 'listening address=127\.0\.0\.1 port=[0-9]+'; }

# A fresh assas-ingest on 127.0.0.1 with the demo PKI in DIR (the defaults: TLS 1.3 with client
# certificates, fdatasync before each acknowledgement). Sets ingest_pid and ingest_port.
start_ingest() {  # dir
  local dir=$1
  scripts/make-demo-pki.sh "$dir/pki" bench-agent >/dev/null 2>&1
  cat > "$dir/ingest.yaml" <<YAML
ingest: { listen: ["127.0.0.1:0"], data_dir: $dir/ingest-data, max_file_size: 4GiB }
tls: { ca: $dir/pki/ca.pem, cert: $dir/pki/ingest.pem, key: $dir/pki/ingest.key }
YAML
  "$bin/assas-ingest" --config "$dir/ingest.yaml" 2> "$dir/ingest.log" & ingest_pid=$!; pids+=("$ingest_pid")
  ingest_port=$(wait_listening "$dir/ingest.log")
}

# The agent config's output section for the ingest started by start_ingest (zstd and the durable
# disk buffer are the defaults).
assas_output_yaml() {  # dir
  cat <<YAML
outputs:
  - type: assas
    endpoints: ["127.0.0.1:$ingest_port"]
    tls: { ca: $1/pki/ca.pem, cert: $1/pki/agent.pem, key: $1/pki/agent.key, server_name: localhost }
YAML
}

# A receiving rsyslogd (imtcp -> omfile, one line per message in DIR/received.log) on a free port.
# Sets recv_pid and recv_port.
start_rsyslog_receiver() {  # dir
  local dir=$1; mkdir -p "$dir/recv"
  recv_port=$(free_port)
  cat > "$dir/recv.conf" <<CONF
global(workDirectory="$dir/recv")
module(load="imtcp")
template(name="msgonly" type="string" string="%rawmsg-after-pri%\n")
input(type="imtcp" address="127.0.0.1" port="$recv_port" ruleset="store")
ruleset(name="store") { action(type="omfile" file="$dir/received.log" template="msgonly") }
CONF
  rsyslogd -n -f "$dir/recv.conf" -i "$dir/recv.pid" 2> "$dir/recv.log" & recv_pid=$!; pids+=("$recv_pid")
}

median() {  # key, results file -> median value (the key whole: cpu_s_per_M is not recv_cpu_s_per_M)
  grep -oE "(^| )$1=[0-9.]+" "$2" | cut -d= -f2 | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}

# One line of medians for a system's results file, with every run's delivered count.
summary() {  # name, results file, keys...
  local name=$1 file=$2; shift 2
  [ -s "$file" ] || return 0
  local line="$name"; for k in "$@"; do line="$line $k=$(median "$k" "$file")"; done
  echo "$line delivered=$(grep -oE 'delivered=[0-9/]+' "$file" | cut -d= -f2 | paste -sd' ')"
}

# Our medians as ratios to rsyslog's, measured in the same run.
ratios() {  # assas results file, rsyslog results file, keys...
  local ours=$1 theirs=$2; shift 2
  [ -s "$ours" ] && [ -s "$theirs" ] || return 0
  local line="ratio (${ratio_label:-assas/rsyslog})"
  for k in "$@"; do
    line="$line $k=$(awk -v a="$(median "$k" "$ours")" -v b="$(median "$k" "$theirs")" 'BEGIN {printf "%.2fx", a / b}')"
  done
  echo "$line   ${ratio_note-(rsyslog forwards over plain TCP without TLS, compression or a disk queue)}"
}
