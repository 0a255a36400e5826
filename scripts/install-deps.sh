#!/usr/bin/env bash
# Installs the Debian 12 packages Assas builds, tests and benchmarks with, if any are missing.
# Idempotent: installs nothing when everything is there. Needs root (or sudo) only to install.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libuv1-dev libzstd-dev libssl-dev libyaml-cpp-dev libsystemd-dev libcli11-dev catch2
  libnats-dev librdkafka-dev  # the NATS JetStream and Kafka outputs
  nats-server        # a real JetStream cluster for the NATS output's tests
  libpcre2-dev       # multiline start patterns (JIT, match limits: safe on hostile lines)
  openssl clang-format python3 procps
  gzip zstd          # compressed rotated files in the file collector tests
  rsyslog            # the peer the benchmark measures against, and a syslog sender in tests
  rsyslog-openssl    # rsyslog forwards over TLS to the syslog collector in tests
  rsyslog-relp       # imrelp/omrelp (librelp, TLS with OpenSSL): the RELP output's test receiver
  systemd-journal-remote  # makes real journal files for tests (shared/tools/make-journal)
  libfaketime        # moves the agent's clock in the clock-jump tests (fault 11)
  lintian dpkg-dev   # the .deb packages: cpack's dpkg-shlibdeps, lintian in tests/packaging
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    as_root=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# syslog-ng, the other receiver of the syslog output's tests, conflicts with rsyslog as a package:
# unpacked into a private tree instead (does nothing when it is there already).
"$(dirname "$0")/fetch-syslog-ng.sh"
