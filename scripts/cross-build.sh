#!/usr/bin/env bash
# cross-build.sh [arm64|armhf] [--no-test]: builds assas-agent and assas-ingest for ARM gateways
# with Debian 12's cross toolchain and multiarch libraries, in build-cross-<arch> (docs/gateways.md).
#   1. installs what is missing (idempotent): crossbuild-essential-<arch>, qemu-user-static, the
#      :<arch> libraries, and libyaml-cpp-dev:<arch> unpacked into /var/cache/assas-cross/<triplet>
#      and catch2:<arch> (neither can be co-installed with its amd64 twin); when apt
#      cannot install the :<arch> libraries, all of them are unpacked there instead;
#   2. configures (RelWithDebInfo, integration tests off: they start the build machine's peers)
#      and builds both programs and the unit test executables;
#   3. runs the unit tests under qemu-user with ctest, and measures the agent's idle memory under
#      qemu (and natively, for comparison, when build/bin/assas-agent exists);     [not --no-test]
#   4. prints the sizes of stripped copies of both programs (build-cross-<arch>/stripped/);
#   5. builds the .deb with `cpack -G DEB` when the tree has CPack packaging.
# Not part of CI (it takes tens of minutes on two cores). Exits non-zero on any failure.
#   ASSAS_JOBS       parallel jobs (default: nproc)
#   ASSAS_NATIVE_BIN native agent for the idle memory comparison (default: build/bin/assas-agent)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

arch=arm64
run_tests=1
for a in "$@"; do
  case "$a" in
    arm64 | armhf) arch=$a ;;
    --no-test) run_tests=0 ;;
    *) echo "usage: scripts/cross-build.sh [arm64|armhf] [--no-test]" >&2; exit 2 ;;
  esac
done
case "$arch" in
  arm64) triplet=aarch64-linux-gnu; qemu="qemu-aarch64-static" ;;
  armhf) triplet=arm-linux-gnueabihf; qemu="qemu-arm-static" ;;
esac
build=build-cross-$arch
jobs=${ASSAS_JOBS:-$(nproc)}
deps_dir=/var/cache/assas-cross/$triplet
fail() { echo "cross-build: $*" >&2; exit 1; }
started=$(date +%s)

# ---- 1. what is missing
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || fail "need root or sudo to install packages"
  as_root=(sudo)
fi
apt_install() {
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "$@" >/dev/null
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# The amd64 build dependencies (cmake, ninja, catch2, libcli11-dev: header-only, arch all).
scripts/install-deps.sh
missing=()
for p in crossbuild-essential-"$arch" qemu-user-static; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  apt_install "${missing[@]}" || fail "apt-get install ${missing[*]} failed"
fi

# The target's libraries, the multiarch way: libuv1-dev:<arch>, ... installed next to the amd64
# ones. Multi-Arch: same packages must have the same version for every architecture, so apt-get
# upgrades the amd64 copies (libssl3, liblzma5, linux-libc-dev, ...) to the :<arch> version when
# needed. libyaml-cpp0.7 (the runtime library) is installed; its -dev is unpacked further down.
libs=()
for p in libuv1-dev libzstd-dev libssl-dev libsystemd-dev libpcre2-dev libyaml-cpp0.7; do
  libs+=("$p:$arch")
done
missing=()
for p in "${libs[@]}"; do installed "$p" || missing+=("$p"); done
mode=multiarch
if [ ${#missing[@]} -gt 0 ]; then
  added=0
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    echo "== dpkg --add-architecture $arch"
    "${as_root[@]}" dpkg --add-architecture "$arch"
    added=1
  fi
  echo "== installing: ${missing[*]}"
  if ! "${as_root[@]}" apt-get update -qq -o DPkg::Lock::Timeout=600 || ! apt_install "${missing[@]}"; then
    # Seen on Debian 12: the mirror's bookworm-security armhf index mid-sync, so apt knows only
    # older :armhf versions than the installed amd64 security updates, and Multi-Arch: same would
    # need the amd64 packages downgraded, which apt does not do (nor should a build script).
    echo "== apt cannot install the :$arch libraries next to the amd64 ones:" \
      "unpacking them into $deps_dir instead (a private root)"
    mode=private
    in_use=$(dpkg-query -W -f='${Architecture}\n' 2>/dev/null | grep -cx "$arch" || true)
    if [ $added -eq 1 ] && [ "$in_use" = 0 ]; then
      # Leave apt as it was: a foreign architecture whose index fails breaks every apt-get update.
      "${as_root[@]}" dpkg --remove-architecture "$arch" || true
      "${as_root[@]}" apt-get update -qq -o DPkg::Lock::Timeout=600 || true
    fi
  fi
fi

# Unpacks (`dpkg-deb -x`: not registered with dpkg) the packages in the arguments, at the
# versions a private apt configuration for <arch> offers, into deps_dir; again only when those
# versions change. The apt configuration lives in /var/cache/assas-cross/apt-<arch>.
unpack_into_deps_dir() {  # package...
  local apt_dir=/var/cache/assas-cross/apt-$arch suite stamp tmp deb
  local key=/usr/share/keyrings/debian-archive-keyring.gpg
  local o=(-o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
    -o Dir::State::Lists="$apt_dir/lists" -o Dir::State::Status="$apt_dir/status"
    -o Dir::Cache::Archives="$apt_dir/archives" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
    -o APT::Architecture="$arch" -o APT::Architectures::="$arch" -o DPkg::Lock::Timeout=600)
  "${as_root[@]}" mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
  "${as_root[@]}" touch "$apt_dir/status"
  for suite in "bookworm-security" ""; do  # without the security archive when its index fails
    {
      echo "deb [arch=$arch signed-by=$key] http://deb.debian.org/debian bookworm main"
      echo "deb [arch=$arch signed-by=$key] http://deb.debian.org/debian bookworm-updates main"
      [ -z "$suite" ] ||
        echo "deb [arch=$arch signed-by=$key] http://deb.debian.org/debian-security $suite main"
    } | "${as_root[@]}" tee "$apt_dir/sources.list" >/dev/null
    "${as_root[@]}" apt-get "${o[@]}" update -qq >/dev/null 2>&1 && break
    [ -n "$suite" ] || fail "apt-get update for $arch failed"
    echo "   ($suite's $arch index cannot be fetched: using bookworm and bookworm-updates)"
  done
  stamp=$(apt-cache "${o[@]}" policy "$@" | awk '/^[^ ]/ { p = $1 } /Candidate:/ { print p, $2 }')
  if [ "$(cat "$deps_dir/VERSIONS" 2>/dev/null)" != "$stamp" ]; then
    echo "== unpacking into $deps_dir: $*"
    tmp=$(mktemp -d); chmod 755 "$tmp"
    (cd "$tmp" && "${as_root[@]}" apt-get "${o[@]}" download -q "$@" >/dev/null 2>&1) ||
      { rm -rf "$tmp"; fail "apt-get download $* failed"; }
    "${as_root[@]}" rm -rf "$deps_dir"
    "${as_root[@]}" mkdir -p "$deps_dir"
    for deb in "$tmp"/*.deb; do "${as_root[@]}" dpkg-deb -x "$deb" "$deps_dir"; done
    echo "$stamp" | "${as_root[@]}" tee "$deps_dir/VERSIONS" >/dev/null
    "${as_root[@]}" rm -rf "$tmp"
  fi
}
if [ "$mode" = multiarch ]; then
  # libyaml-cpp-dev has no Multi-Arch field on Debian 12: installing the :<arch> one removes the
  # amd64 one. catch2 ships a compiled libCatch2WithMain.a in /usr/lib (Multi-Arch: foreign). So
  # both are unpacked (libyaml-cpp-dev with the runtime library it points at) into deps_dir, the
  # toolchain file's second root.
  unpack_into_deps_dir libyaml-cpp-dev libyaml-cpp0.7 catch2
  qemu_run=("$qemu")
else
  # Everything the programs link, and what those libraries need in turn (libsystemd0: libcap2,
  # libgcrypt20, liblz4-1, liblzma5, libzstd1; libgcrypt20: libgpg-error0). The C and C++
  # runtimes come from the cross toolchain (libc6-<arch>-cross, libstdc++6-<arch>-cross).
  unpack_into_deps_dir libuv1 libuv1-dev libzstd1 libzstd-dev libssl3 libssl-dev libsystemd0 \
    libsystemd-dev libpcre2-8-0 libpcre2-dev libyaml-cpp0.7 libyaml-cpp-dev libcap2 libgcrypt20 \
    liblz4-1 liblzma5 libgpg-error0 catch2
  qemu_run=(env LD_LIBRARY_PATH="$deps_dir/usr/lib/$triplet:$deps_dir/lib/$triplet" "$qemu"
    -L "/usr/$triplet")
fi

# ---- 2. configure and build
tests_flag=ON
[ $run_tests -eq 1 ] || tests_flag=OFF
echo "== configure $build"
# Library locations found by an earlier configure stay in CMakeCache.txt: when the libraries came
# from elsewhere then (multiarch or private root, other versions), start from a fresh cache.
deps_stamp="$mode $(md5sum < "$deps_dir/VERSIONS")"
if [ "$(cat "$build/assas-cross-deps" 2>/dev/null)" != "$deps_stamp" ]; then
  rm -f "$build/CMakeCache.txt"
fi
# Under qemu-user every test runs several times slower: ctest timeouts x5.
cmake -S . -B "$build" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/$triplet.cmake" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DASSAS_WERROR=ON \
  -DASSAS_BUILD_TESTS=$tests_flag -DASSAS_BUILD_INTEGRATION_TESTS=OFF \
  -DASSAS_TEST_TIMEOUT_MULTIPLIER=5 \
  -DASSAS_DEB_ARCH="$arch" -DASSAS_DEB_SHLIBDEPS=OFF \
  --no-warn-unused-cli >/dev/null
echo "$deps_stamp" > "$build/assas-cross-deps"
echo "== build $build (-j$jobs)"
timeout 7200 cmake --build "$build" -j"$jobs" || fail "build failed"
machine=$(case $arch in arm64) echo AArch64 ;; armhf) echo ARM ;; esac)
"$triplet-readelf" -h "$build/bin/assas-agent" | grep -Eq "Machine: +$machine\$" ||
  fail "$build/bin/assas-agent is not an $arch executable"

# ---- 3. unit tests and idle memory under qemu
# The programs' idle resident memory: the agent with one file collector on an idle temp file and
# an assas output to 127.0.0.1 on a port nothing listens on (it retries in the background), after
# 5 s. Under qemu-user the figure includes the emulator and its translated code.
idle_rss_kb() {  # runner... (the agent command line is appended)
  local dir pid rss
  dir=$(mktemp -d)
  mkdir -p "$dir/logs"; chmod 700 "$dir"
  scripts/make-demo-pki.sh "$dir/pki" demo-agent
  echo "idle line" > "$dir/logs/idle.log"
  ASSAS_DEMO_DIR=$dir ASSAS_DEMO_PORT=1 "$@" --config packaging/demo/agent.yaml \
    2> "$dir/agent.log" &
  pid=$!
  sleep 5
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -z "$rss" ]; then
    echo "cross-build: the agent did not stay up:" >&2; cat "$dir/agent.log" >&2
    rm -rf "$dir"; return 1
  fi
  rm -rf "$dir"
  echo "$rss"
}

if [ $run_tests -eq 1 ]; then
  echo "== unit tests under $qemu"
  (cd "$build" && timeout 3600 ctest -L unit -j"$jobs" --output-on-failure) ||
    fail "unit tests failed under $qemu"
  echo "== idle memory (VmRSS after 5 s)"
  emulated=$(idle_rss_kb "${qemu_run[@]}" "$build/bin/assas-agent") ||
    fail "idle memory: the $arch agent did not run under $qemu"
  echo "  $arch assas-agent under $qemu: ${emulated} kB (includes the emulator)"
  native_bin=${ASSAS_NATIVE_BIN:-build/bin/assas-agent}
  if [ -x "$native_bin" ]; then
    native=$(idle_rss_kb "$native_bin") || fail "idle memory: $native_bin did not run"
    echo "  native $(dpkg --print-architecture) $native_bin: ${native} kB"
  else
    echo "  (no native $native_bin to compare with: scripts/demo.sh builds it)"
  fi
fi

# ---- 4. stripped sizes
mkdir -p "$build/stripped"
echo "== stripped sizes ($triplet-strip copies in $build/stripped)"
for p in assas-agent assas-ingest; do
  "$triplet-strip" -o "$build/stripped/$p" "$build/bin/$p"
  printf '  %-13s %9d bytes (%s unstripped)\n' "$p" "$(stat -c %s "$build/stripped/$p")" \
    "$(du -h "$build/bin/$p" | cut -f1)"
done

# ---- 5. the .deb, when the tree has CPack packaging
if [ -f "$build/CPackConfig.cmake" ]; then
  echo "== cpack -G DEB ($arch)"
  (cd "$build" && timeout 900 cpack -G DEB) || fail "cpack failed"
  ls -l "$build"/packages/*.deb
else
  echo "== no CPack packaging in this tree yet: skipping the .deb"
fi
echo "== done in $(($(date +%s) - started)) s"
