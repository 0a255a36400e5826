#!/usr/bin/env bash
# The demo: installs what is missing, builds, makes a throwaway CA and certificates, starts
# assas-ingest on 127.0.0.1 and assas-agent tailing a demo log, appends lines, shows them arriving
# at the SOC side as JSON lines, then stops both cleanly. Everything lives in ./demo-run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh
echo "== building"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target assas-agent assas-ingest

export ASSAS_DEMO_DIR=$root/demo-run
rm -rf "$ASSAS_DEMO_DIR"; mkdir -p "$ASSAS_DEMO_DIR/logs"; chmod 700 "$ASSAS_DEMO_DIR"
scripts/make-demo-pki.sh "$ASSAS_DEMO_DIR/pki" demo-agent
ingest_pid=""; agent_pid=""
cleanup() {
  for pid in $agent_pid $ingest_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $agent_pid $ingest_pid; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

bin=build/bin
$bin/assas-ingest --check --config packaging/demo/ingest.yaml
$bin/assas-ingest --config packaging/demo/ingest.yaml 2> "$ASSAS_DEMO_DIR/ingest.log" &
ingest_pid=$!
port=""
for _ in $(seq 100); do
  port=$(grep -oE 'listening address=127\.0\.0\.1 port=[0-9]+' "$ASSAS_DEMO_DIR/ingest.log" | head -1 | sed 's/.*port=//') || true
  [ -n "$port" ] && break; sleep 0.1
done
[ -n "$port" ] || { echo "assas-ingest did not start:"; cat "$ASSAS_DEMO_DIR/ingest.log"; exit 1; }
export ASSAS_DEMO_PORT=$port
echo "== assas-ingest listening on 127.0.0.1:$port (pid $ingest_pid)"

log=$ASSAS_DEMO_DIR/logs/demo.log
printf 'Nov 24 09:00:00 gw-07 sshd[811]: Accepted publickey for admin from 10.0.0.5 port 52113\n' > "$log"
$bin/assas-agent --check --config packaging/demo/agent.yaml
$bin/assas-agent --config packaging/demo/agent.yaml 2> "$ASSAS_DEMO_DIR/agent.log" &
agent_pid=$!
echo "== assas-agent tailing $log (pid $agent_pid)"
for i in 1 2 3 4 5; do
  printf 'Nov 24 09:00:0%d gw-07 sshd[812]: Failed password for invalid user guest%d from 203.0.113.%d port 4%d022 ssh2\n' "$i" "$i" "$i" "$i" >> "$log"
done
printf 'Nov 24 09:00:09 gw-07 sudo: admin : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/cat /etc/shadow\n' >> "$log"

out_glob="$ASSAS_DEMO_DIR/ingest-data/demo-agent/events-*.jsonl"
for _ in $(seq 100); do
  n=$( (cat $out_glob 2>/dev/null || true) | wc -l)
  [ "$n" -ge 7 ] && break; sleep 0.1
done
echo "== the SOC side received ($out_glob):"
cat $out_glob
n=$( (cat $out_glob 2>/dev/null || true) | wc -l)
# Stop both with SIGTERM, the agent first (it flushes and writes its checkpoints), and check that
# each one exited cleanly (status 0) before its deadline.
stop_cleanly() {  # pid name
  kill -TERM "$1"
  for _ in $(seq 150); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then echo "demo FAILED: $2 did not stop within 15 s"; exit 1; fi
  local rc=0; wait "$1" || rc=$?
  [ "$rc" -eq 0 ] || { echo "demo FAILED: $2 exited with status $rc"; exit 1; }
}
stop_cleanly "$agent_pid" assas-agent; agent_pid=""
stop_cleanly "$ingest_pid" assas-ingest; ingest_pid=""
trap - EXIT
echo "== stopped both cleanly; agent log: $ASSAS_DEMO_DIR/agent.log, ingest log: $ASSAS_DEMO_DIR/ingest.log"
[ "$n" -eq 7 ] || { echo "demo FAILED: expected 7 events, got $n"; exit 1; }
echo "== demo OK: 7 lines written, 7 events stored exactly once"
