#!/usr/bin/env bash
# Outputs benchmark (not a test): one file of N lines, read from its start by a fresh forwarder and
# shipped over loopback to a fresh receiver, once per output type, with rsyslogd as the forwarder
# to the same receivers in the same run:
#   assas        assas-agent (type: assas)          -> assas-ingest (fdatasync before each ack)
#   relp         assas-agent (type: relp, TLS)      -> rsyslog imrelp    (docs/outputs/rsyslog-relp.conf)
#   rsyslog-relp rsyslogd imfile -> omrelp, TLS (window as the agent's) -> the same imrelp receiver
#   syslog-tls   assas-agent (type: syslog, TLS)    -> rsyslog imtcp     (docs/outputs/rsyslog-tls.conf)
#   rsyslog-tls  rsyslogd imfile -> omfwd, ossl TLS, octet-counted -> the same imtcp receiver
#   syslog-ng    assas-agent (type: syslog, TLS)    -> syslog-ng syslog() (docs/outputs/syslog-ng-tls.conf)
# Every TLS session is mutual (the demo PKI of scripts/make-demo-pki.sh): the receivers ask for a
# client certificate, and both forwarders verify the receiver's name (localhost). The receivers are
# started from the example configs as tests/integration/syslog_receivers.cpp does (only the paths,
# the port and the output file are replaced, and a missing token fails loudly).
#
#   bench/outputs.sh [--lines 1000000] [--runs 3] [--only CASE] [--relp-window N]
#
# CASE: assas, relp, syslog-tls, syslog-ng, rsyslog-relp or rsyslog-tls. --relp-window sets the
# agent's RELP `window` and omrelp's windowSize (default: the agent's default, 4096).
#
# Figures per case: lines/s and MB/s (input file bytes) from the forwarder's start until the
# receiver holds every line (count_lines.py every 0.1 s); the forwarder's CPU seconds
# (utime+stime from /proc) per million lines and its peak RSS (VmHWM); the receiver's CPU seconds
# per million; delivered = lines the receiver holds 1 s after the last one / N, and ids=ok when
# check_ids.py finds each of the N ids exactly once. Medians over --runs runs, then our medians as
# ratios to rsyslog's for the two receivers both forward to.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=1000000; runs=3; only=""; relp_window=""
cases_all="assas relp rsyslog-relp syslog-tls rsyslog-tls syslog-ng"
usage() { echo "usage: bench/outputs.sh [--lines 1000000] [--runs 3] [--only ${cases_all// /|}] [--relp-window N]"; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --lines) lines=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --relp-window) relp_window=$2; shift 2 ;;
    *) usage ;;
  esac
done
[[ " $cases_all " == *" $only "* ]] || [ -z "$only" ] || usage
cases=${only:-$cases_all}
command -v rsyslogd >/dev/null || [ "$only" = assas ] || { echo "rsyslogd missing: apt-get install -y rsyslog rsyslog-relp rsyslog-openssl"; exit 1; }

source bench/lib.sh
syslog_ng_root=/var/cache/assas-test-peers/syslog-ng
if [[ " $cases " == *" syslog-ng "* ]] && [ ! -x "$syslog_ng_root/usr/sbin/syslog-ng" ]; then
  echo "skipping syslog-ng: no $syslog_ng_root/usr/sbin/syslog-ng (scripts/fetch-syslog-ng.sh makes it)"
  cases=${cases/syslog-ng/}
fi

# The input: the first N lines of a make_corpus.py corpus (each line starts with its id, 0..N-1).
corpus=$out/corpus-$lines-lines.log
if [ ! -f "$corpus" ]; then
  python3 bench/make_corpus.py "$((lines * 200 / 1000000 + 1))MB" "$corpus.src" >/dev/null  # ~134 B a line
  head -n "$lines" "$corpus.src" > "$corpus.tmp"; rm -f "$corpus.src"
  [ "$(wc -l < "$corpus.tmp")" -eq "$lines" ] || { echo "corpus too short: $corpus.tmp" >&2; exit 1; }
  mv "$corpus.tmp" "$corpus"
fi
bytes=$(stat -c %s "$corpus")
echo "corpus: $corpus ($lines lines, $bytes bytes)"
timeout=$((120 + lines / 5000))  # seconds to wait for every line: ample at 5k lines/s

build_release

# --- receivers -------------------------------------------------------------------------------

# Whether PID holds a TCP socket listening on 127.0.0.1:PORT (asks the kernel, as the tests do:
# connecting would leave an aborted handshake in the receiver's log).
holds_listener() {  # pid port
  local inodes; inodes=$(awk -v a="$(printf '0100007F:%04X' "$2")" '$2 == a && $4 == "0A" {print $10}' /proc/net/tcp)
  [ -n "$inodes" ] || return 1
  local fd target i
  for fd in /proc/"$1"/fd/*; do
    target=$(readlink "$fd" 2>/dev/null) || continue
    for i in $inodes; do [ "$target" = "socket:[$i]" ] && return 0; done
  done
  return 1
}

# An example config from docs/outputs/ with tokens replaced; every token must be there.
example=""
load_example() { example=$(cat "docs/outputs/$1"); }
replace() {  # token, replacement
  [[ $example == *"$1"* ]] || { echo "docs/outputs/ example no longer holds '$1': update bench/outputs.sh" >&2; exit 1; }
  example=${example//"$1"/"$2"}
}

# Writes the receiver's config for PORT into DIR/recv.conf: kind relp (rsyslog-relp.conf), tls
# (rsyslog-tls.conf) or syslog-ng (syslog-ng-tls.conf), mutual TLS as in the examples.
receiver_config() {  # kind dir port
  local kind=$1 dir=$2 port=$3
  case "$kind" in
    relp)
      load_example rsyslog-relp.conf
      replace 'port="2514"' "port=\"$port\" address=\"127.0.0.1\""
      replace /var/log/soc/assas-relp.jsonl "$dir/received.jsonl" ;;
    tls)
      load_example rsyslog-tls.conf
      replace 'port="6514"' "port=\"$port\" address=\"127.0.0.1\""
      replace /var/log/soc/assas-syslog.jsonl "$dir/received.jsonl" ;;
    syslog-ng)
      load_example syslog-ng-tls.conf
      replace 'ip("0.0.0.0")' 'ip("127.0.0.1")'
      replace 'port(6514)' "port($port)"
      replace /var/log/soc/assas-syslog-ng.jsonl "$dir/received.jsonl" ;;
  esac
  replace /etc/ssl/soc/ca.pem "$dir/pki/ca.pem"
  replace /etc/ssl/soc/server.pem "$dir/pki/ingest.pem"
  replace /etc/ssl/soc/server.key "$dir/pki/ingest.key"
  if [ "$kind" = syslog-ng ]; then
    # What Debian's /etc/syslog-ng/syslog-ng.conf says before it includes conf.d/.
    printf '@version: 3.38\n%s\n' "$example" > "$dir/recv.conf"
  else
    printf 'global(workDirectory="%s")\n%s\n' "$dir/recv" "$example" > "$dir/recv.conf"
  fi
}

# Starts a receiver of KIND with the PKI in DIR/pki and waits (at most 20 s per attempt) until it
# listens on 127.0.0.1; on a port taken meanwhile, tries another. Sets recv_pid and recv_port.
start_receiver() {  # kind dir
  local kind=$1 dir=$2
  mkdir -p "$dir/recv"
  for _ in 1 2 3 4 5; do  # attempts
    recv_port=$(free_port)
    receiver_config "$kind" "$dir" "$recv_port"
    if [ "$kind" = syslog-ng ]; then
      LD_LIBRARY_PATH=$syslog_ng_root/usr/lib/syslog-ng "$syslog_ng_root/usr/sbin/syslog-ng" -F --stderr \
        --no-caps --cfgfile="$dir/recv.conf" --persist-file="$dir/recv/syslog-ng.persist" \
        --pidfile="$dir/recv/syslog-ng.pid" --control="$dir/recv/syslog-ng.ctl" \
        --module-path="$(ls -d "$syslog_ng_root"/usr/lib/syslog-ng/3.* | head -1)" 2> "$dir/recv.log" &
    else
      rsyslogd -n -f "$dir/recv.conf" -i "$dir/recv/rsyslogd.pid" 2> "$dir/recv.log" &
    fi
    recv_pid=$!; pids+=("$recv_pid")
    for _ in $(seq 200); do
      holds_listener "$recv_pid" "$recv_port" && return 0
      kill -0 "$recv_pid" 2>/dev/null || break
      grep -qi binding "$dir/recv.log" && break
      sleep 0.1
    done
    stop_pid "$recv_pid"
    grep -qi binding "$dir/recv.log" || break
  done
  echo "$kind receiver did not listen on 127.0.0.1:$recv_port; its log: $(cat "$dir/recv.log")" >&2
  return 1
}

# --- forwarders ------------------------------------------------------------------------------

# A fresh directory with the demo PKI: ingest.pem/key is the receivers' certificate (localhost,
# 127.0.0.1), agent.pem/key the forwarders' client certificate.
fresh_dir() {  # case
  local dir=$out/outputs-$1-run; rm -rf "$dir"; mkdir -p "$dir"; chmod 700 "$dir"
  scripts/make-demo-pki.sh "$dir/pki" bench-agent >/dev/null 2>&1
  echo "$dir"
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

# The agent's syslog or relp output to the receiver on recv_port, mutual TLS.
agent_output_yaml() {  # dir, type, extra line
  cat <<YAML
outputs:
  - type: $2
    endpoints: ["127.0.0.1:$recv_port"]
    tls: { ca: $1/pki/ca.pem, cert: $1/pki/agent.pem, key: $1/pki/agent.key, server_name: localhost }
$3
YAML
}

# rsyslogd as the forwarder: imfile reads the corpus from its start (no state file yet), the
# action sends RFC 5424 (RSYSLOG_SyslogProtocol23Format, as the agent does) over TLS with the
# agent's client certificate, verifying the receiver's name as the agent does. rsyslog's defaults
# otherwise (the in-memory main queue, no disk queue), except omrelp's window: it gets the agent's
# (4096, or --relp-window). librelp's own default, 128, ran at ~2k lines/s here, a stall per window
# that the agent with window 128 does not have (25k lines/s to the same receiver).
start_rsyslog_forwarder() {  # dir, action; sets fwd_pid and start
  local dir=$1; mkdir -p "$dir/send"
  cat > "$dir/fwd.conf" <<CONF
global(workDirectory="$dir/send")
module(load="imfile")
input(type="imfile" file="$corpus" tag="bench" freshStartTail="off" ruleset="fwd")
$2
CONF
  start=$(date +%s%N)
  rsyslogd -n -f "$dir/fwd.conf" -i "$dir/send/rsyslogd.pid" 2> "$dir/fwd.log" & fwd_pid=$!; pids+=("$fwd_pid")
}

# --- one measurement -------------------------------------------------------------------------

# Waits until the receiver holds every line, then prints the figures as key=value.
measure() {  # dir
  local dir=$1 glob=$1/received.jsonl
  [ "$case" = assas ] && glob="$dir/ingest-data/bench-agent/events-*.jsonl"
  local got; got=$(python3 bench/count_lines.py "$glob" "$lines" "$timeout" 0.1) || true
  local end; end=$(date +%s%N)
  local cpu; cpu=$(cpu_ticks "$fwd_pid" 2>/dev/null || echo 0)
  local hwm; hwm=$(status_kib "$fwd_pid" VmHWM 2>/dev/null || echo 0)
  local rcpu; rcpu=$(cpu_ticks "$recv_pid" 2>/dev/null || echo 0)
  sleep 1; got=$(python3 bench/count_lines.py "$glob" 0 0)  # and nothing more than N arrives
  local ids; ids=$(python3 bench/check_ids.py "$glob" "$lines") || true
  local warn  # the agent's warn and error lines; rsyslogd's stderr lines that mention an error
  if [ -f "$dir/fwd.yaml" ]; then warn=$(awk '$3 == "warn" || $3 == "error"' "$dir/fwd.log" | wc -l)
  else warn=$(grep -ci error "$dir/fwd.log" || true); fi
  if [ "$got" -ne "$lines" ]; then
    echo "$case: the receiver holds $got of $lines lines; forwarder log tail:" >&2; tail -5 "$dir/fwd.log" >&2
  fi
  awk -v n="$lines" -v b="$bytes" -v s="$start" -v e="$end" -v c="$cpu" -v t="$tick" -v h="$hwm" \
      -v rc="$rcpu" -v g="$got" -v ids="$ids" -v w="$warn" 'BEGIN {
    secs = (e - s) / 1e9
    printf "lines_s=%.0f MB_s=%.1f cpu_s_per_M=%.2f peak_rss_MiB=%.1f recv_cpu_s_per_M=%.2f total_s=%.2f delivered=%d/%d %s fwd_warnings=%d\n",
      n / secs, b / 1e6 / secs, (c / t) / (n / 1e6), h / 1024, (rc / t) / (n / 1e6), secs, g, n, ids, w }'
}

run_case() {
  local dir; dir=$(fresh_dir "$case")
  local pki=$dir/pki
  case "$case" in
    assas)
      start_ingest "$dir"; recv_pid=$ingest_pid  # (it makes dir/pki afresh, the same kind)
      start_agent "$dir" "$(assas_output_yaml "$dir")" ;;
    relp)
      start_receiver relp "$dir"
      start_agent "$dir" "$(agent_output_yaml "$dir" relp "${relp_window:+    window: $relp_window}")" ;;
    syslog-tls)
      start_receiver tls "$dir"
      start_agent "$dir" "$(agent_output_yaml "$dir" syslog "")" ;;
    syslog-ng)
      start_receiver syslog-ng "$dir"
      start_agent "$dir" "$(agent_output_yaml "$dir" syslog "")" ;;
    rsyslog-relp)
      start_receiver relp "$dir"
      start_rsyslog_forwarder "$dir" "module(load=\"omrelp\" tls.tlsLib=\"openssl\")
ruleset(name=\"fwd\") {
  action(type=\"omrelp\" target=\"127.0.0.1\" port=\"$recv_port\" template=\"RSYSLOG_SyslogProtocol23Format\"
         tls=\"on\" tls.caCert=\"$pki/ca.pem\" tls.myCert=\"$pki/agent.pem\" tls.myPrivKey=\"$pki/agent.key\"
         tls.authMode=\"name\" tls.permittedPeer=[\"localhost\"] windowSize=\"${relp_window:-4096}\")
}" ;;
    rsyslog-tls)
      start_receiver tls "$dir"
      start_rsyslog_forwarder "$dir" "ruleset(name=\"fwd\") {
  action(type=\"omfwd\" target=\"127.0.0.1\" port=\"$recv_port\" protocol=\"tcp\" tcp_framing=\"octet-counted\"
         template=\"RSYSLOG_SyslogProtocol23Format\" streamDriver=\"ossl\" streamDriverMode=\"1\"
         streamDriverAuthMode=\"x509/name\" streamDriverPermittedPeers=\"localhost\"
         streamDriver.CAFile=\"$pki/ca.pem\" streamDriver.CertFile=\"$pki/agent.pem\"
         streamDriver.KeyFile=\"$pki/agent.key\")
}" ;;
  esac
  measure "$dir"
  stop_pid "$fwd_pid"; stop_pid "$recv_pid"
  # What was shipped and received (each up to a few times the corpus's size) is not kept; the
  # configs and logs are.
  rm -rf "$dir/agent-data" "$dir/ingest-data" "$dir/received.jsonl"
}

# Runs in this shell (not in a pipeline's subshell), so the EXIT trap sees every pid.
for c in $cases; do : > "$out/outputs-$c.txt"; done
for r in $(seq "$runs"); do
  for case in $cases; do
    run_case >> "$out/outputs-$case.txt"
    printf 'run %s %-12s %s\n' "$r" "$case" "$(tail -1 "$out/outputs-$case.txt")"
  done
done

# Our medians as ratios to the rsyslog forwarder's, to the same receiver in the same run.
ratio_line() {  # label, ours, theirs, keys...
  local label=$1 ours=$out/outputs-$2.txt theirs=$out/outputs-$3.txt; shift 3
  [ -s "$ours" ] && [ -s "$theirs" ] || return 0
  local line="$label"
  for k in "$@"; do
    line="$line $k=$(awk -v a="$(median "$k" "$ours")" -v b="$(median "$k" "$theirs")" 'BEGIN {printf "%.2fx", a / b}')"
  done
  echo "$line"
}

keys="lines_s MB_s cpu_s_per_M peak_rss_MiB recv_cpu_s_per_M total_s"
echo "== medians of $runs runs, $lines lines ($bytes bytes), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)${relp_window:+, relp window $relp_window}"
for c in $cases; do
  [ -s "$out/outputs-$c.txt" ] || continue
  printf '%-12s %s ids=%s\n' "$c" "$(summary "" "$out/outputs-$c.txt" $keys | sed 's/^ //')" \
    "$(grep -oE 'ids=[^ ]+' "$out/outputs-$c.txt" | cut -d= -f2 | paste -sd' ')"
done
ratio_line "relp vs rsyslog omrelp          " relp rsyslog-relp lines_s cpu_s_per_M peak_rss_MiB
ratio_line "syslog-tls vs rsyslog omfwd-tls " syslog-tls rsyslog-tls lines_s cpu_s_per_M peak_rss_MiB
