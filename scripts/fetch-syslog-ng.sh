#!/usr/bin/env bash
# fetch-syslog-ng.sh [TREE]: Debian 12's syslog-ng, unpacked (not installed) into TREE
# (default /var/cache/assas-test-peers/syslog-ng), for the integration tests that run it as a
# receiver of the agent's syslog output.
#
# Why not `apt-get install syslog-ng-core`: it Conflicts with rsyslog (both provide
# system-log-daemon), and the tests need rsyslog installed too. So this script installs only
# syslog-ng-core's libraries with apt-get (none of them conflicts with anything), downloads the
# syslog-ng-core .deb with `apt-get download`, and unpacks it with `dpkg-deb -x`. Nothing of
# syslog-ng is registered with dpkg, no service is created, and the system's logging is untouched.
# The tests run TREE/usr/sbin/syslog-ng with LD_LIBRARY_PATH=TREE/usr/lib/syslog-ng (its private
# libsyslog-ng) and --module-path=TREE/usr/lib/syslog-ng/3.38 (the TLS network source, afsocket,
# and the JSON template functions, json-plugin, are both in syslog-ng-core: no module packages).
#
# Idempotent: does nothing when TREE holds the version apt offers. Needs root (or sudo) only to
# install and unpack. Called at the end of scripts/install-deps.sh.
set -euo pipefail

tree=${1:-/var/cache/assas-test-peers/syslog-ng}
package=syslog-ng-core
# `apt-cache depends syslog-ng-core` on Debian 12, less sysvinit-utils|lsb-base (essential) and
# libc6.
libraries=(libcap2 libglib2.0-0 libivykis0 libjson-c5 libnet1 libpcre3 libssl3 libsystemd0 libwrap0)

fail() { echo "fetch-syslog-ng: $*" >&2; exit 1; }

# Root (or sudo) is needed only to install and unpack; a present tree needs neither.
as_root=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
  as_root=(sudo)
fi

candidate() { apt-cache policy "$package" 2>/dev/null | awk '/Candidate:/ { print $2 }'; }
version=$(candidate)
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  echo "fetch-syslog-ng: apt knows no $package yet: apt-get update"
  "${as_root[@]}" apt-get update -qq || fail "apt-get update failed"
  version=$(candidate)
  if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    fail "apt offers no $package (is this Debian 12 with the main component?)"
  fi
fi
if [ -x "$tree/usr/sbin/syslog-ng" ] && [ "$(cat "$tree/VERSION" 2>/dev/null)" = "$version" ]; then
  exit 0
fi

missing=()
for p in "${libraries[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fetch-syslog-ng: installing syslog-ng's libraries: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    fail "apt-get install ${missing[*]} failed"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt-get download may run as the unprivileged _apt user
echo "fetch-syslog-ng: downloading $package $version"
(cd "$work" && apt-get download -qq "$package=$version" >/dev/null 2>&1) ||
  (cd "$work" && apt-get download "$package=$version") ||
  fail "apt-get download $package=$version failed"
deb=$(find "$work" -maxdepth 1 -name "${package}_*.deb" | head -n 1)
[ -n "$deb" ] || fail "apt-get download left no $package .deb in $work"

echo "fetch-syslog-ng: unpacking $(basename "$deb") into $tree"
staging="$tree.new.$$"
"${as_root[@]}" rm -rf "$staging"
"${as_root[@]}" mkdir -p "$staging"
"${as_root[@]}" dpkg-deb -x "$deb" "$staging" || fail "dpkg-deb -x $deb failed"
echo "$version" | "${as_root[@]}" tee "$staging/VERSION" >/dev/null
"${as_root[@]}" rm -rf "$tree"
"${as_root[@]}" mv "$staging" "$tree"

# A check that the unpacked binary finds its libraries.
LD_LIBRARY_PATH="$tree/usr/lib/syslog-ng" "$tree/usr/sbin/syslog-ng" --version >/dev/null ||
  fail "$tree/usr/sbin/syslog-ng does not run (missing libraries?)"
echo "fetch-syslog-ng: syslog-ng $version ready in $tree"
