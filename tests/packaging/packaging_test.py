#!/usr/bin/env python3
"""Checks of the .deb packages and the systemd units (docs/operations.md).

  packaging_test.py build     BUILD_DIR OUT_DIR   cpack -G DEB into OUT_DIR (the other checks' fixture)
  packaging_test.py lintian   OUT_DIR             no E: line from lintian on either package
  packaging_test.py contents  OUT_DIR             file lists, modes, conffiles, stripped, sh -n
  packaging_test.py install   OUT_DIR             dpkg --root into a scratch tree, with stubbed tools
  packaging_test.py security  SOURCE_DIR          systemd-analyze security --offline: exposure <= 2.0
  packaging_test.py verify    OUT_DIR             systemd-analyze verify in the unpacked packages

Nothing here changes the host: packages are unpacked or installed only under a temporary directory,
and the tools the maintainer scripts call to change the system (adduser, chown, systemctl, ...) are
replaced by stubs that log their arguments.
"""
import glob
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

PACKAGES = ["assas-agent", "assas-ingest"]
MAX_EXPOSURE = 2.0
TIMEOUT = 120  # seconds, per command


def run(cmd, **kw):
    kw.setdefault("timeout", TIMEOUT)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def deb_of(out_dir, package):
    debs = glob.glob(os.path.join(out_dir, package + "_*.deb"))
    if len(debs) != 1:
        fail(f"expected one {package}_*.deb in {out_dir}, found {debs}")
    return debs[0]


def build(build_dir, out_dir):
    for binary in ("assas-agent", "assas-ingest"):
        if not os.access(os.path.join(build_dir, "bin", binary), os.X_OK):
            fail(f"{build_dir}/bin/{binary} is not built")
    shutil.rmtree(out_dir, ignore_errors=True)
    r = run(["cpack", "-G", "DEB", "--config", os.path.join(build_dir, "CPackConfig.cmake"),
             "-B", out_dir], cwd=build_dir)
    print(r.stdout)
    if r.returncode != 0:
        fail("cpack failed")
    for package in PACKAGES:
        print("built", deb_of(out_dir, package))


def lintian(out_dir):
    bad = False
    for package in PACKAGES:
        r = run(["lintian", "--no-cfg", "--display-info", deb_of(out_dir, package)])
        print(f"== lintian {package} (exit {r.returncode})\n{r.stdout}")
        if re.search(r"^E: ", r.stdout, re.M):
            bad = True
    if bad:
        fail("lintian reported errors")


def unpack(deb, root, control):
    os.makedirs(root)
    for args in (["-x", deb, root], ["-e", deb, control]):
        r = run(["dpkg-deb"] + args)
        if r.returncode != 0:
            fail(f"dpkg-deb {args}: {r.stdout}")


EXPECTED = {  # path -> mode; directories end in "/"
    "assas-agent": {
        "/usr/bin/assas-agent": 0o755,
        "/lib/systemd/system/assas-agent.service": 0o644,
        "/etc/assas/agent.yaml": 0o644,
        "/usr/share/doc/assas-agent/copyright": 0o644,
        "/usr/share/doc/assas-agent/changelog.Debian.gz": 0o644,
        "/usr/share/doc/assas-agent/operations.md": 0o644,
    },
    "assas-ingest": {
        "/usr/bin/assas-ingest": 0o755,
        "/lib/systemd/system/assas-ingest.service": 0o644,
        "/etc/assas/ingest.yaml": 0o644,
        "/usr/share/doc/assas-ingest/copyright": 0o644,
        "/usr/share/doc/assas-ingest/changelog.Debian.gz": 0o644,
        "/usr/share/doc/assas-ingest/operations.md": 0o644,
    },
}


def contents(out_dir):
    problems = []
    with tempfile.TemporaryDirectory(prefix="assas-pkg-") as tmp:
        for package in PACKAGES:
            deb = deb_of(out_dir, package)
            root, control = os.path.join(tmp, package, "root"), os.path.join(tmp, package, "DEBIAN")
            unpack(deb, root, control)
            listing = run(["dpkg-deb", "-c", deb]).stdout
            print(f"== {package}\n{listing}")
            for line in listing.splitlines():
                if not line.split()[1].startswith("root/root"):
                    problems.append(f"{package}: not owned by root: {line}")
            files = {}
            for dirpath, dirnames, filenames in os.walk(root):
                for d in dirnames:
                    mode = os.lstat(os.path.join(dirpath, d)).st_mode
                    if stat.S_IMODE(mode) != 0o755:
                        problems.append(f"{package}: directory {d} has mode {oct(mode)}")
                for f in filenames:
                    path = os.path.join(dirpath, f)
                    files["/" + os.path.relpath(path, root)] = stat.S_IMODE(os.lstat(path).st_mode)
            expected = EXPECTED[package]
            if set(files) != set(expected):
                problems.append(f"{package}: files {sorted(files)}, expected {sorted(expected)}")
            for path, mode in expected.items():
                if path in files and files[path] != mode:
                    problems.append(f"{package}: {path} has mode {oct(files[path])}, not {oct(mode)}")
            binary = os.path.join(root, "usr/bin", package)
            sections = run(["readelf", "-S", "-W", binary]).stdout
            if ".debug_" in sections or ".symtab" in sections:
                problems.append(f"{package}: /usr/bin/{package} is not stripped")
            conffiles = open(os.path.join(control, "conffiles")).read().split()
            want = [p for p in expected if p.startswith("/etc/")]
            if conffiles != want:
                problems.append(f"{package}: DEBIAN/conffiles is {conffiles}, expected {want}")
            fields = open(os.path.join(control, "control")).read()
            print(fields)
            depends = re.search(r"^Depends: (.*)$", fields, re.M)
            for dep in ("adduser", "libc6", "libssl3", "libuv1"):
                if not depends or not re.search(rf"(^|, ){re.escape(dep)}( |,|$)", depends.group(1)):
                    problems.append(f"{package}: Depends lacks {dep}")
            for script in ("postinst", "prerm", "postrm"):
                path = os.path.join(control, script)
                if stat.S_IMODE(os.stat(path).st_mode) != 0o755:
                    problems.append(f"{package}: DEBIAN/{script} is not 0755")
                r = run(["sh", "-n", path])
                if r.returncode != 0:
                    problems.append(f"{package}: DEBIAN/{script}: sh -n: {r.stdout}")
    if problems:
        fail("\n  ".join([""] + problems))
    print("contents ok")


# Stubs for the commands the maintainer scripts use to change the system. Each logs its arguments
# to $STUB_LOG; getent knows only the users and groups listed in $STUB_DB (adduser adds to it).
STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "$STUB_LOG"
"""
GETENT_STUB = """#!/bin/sh
grep -q "^$1 $2\\$" "$STUB_DB"
"""
ADDUSER_STUB = STUB + """for last in "$@"; do :; done
case " $* " in
  *" --system "*) echo "passwd $last" >> "$STUB_DB"
                  case " $* " in *" --group "*) echo "group $last" >> "$STUB_DB";; esac;;
esac
"""


def dpkg(root, env, *args):
    cmd = ["dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends",
           "--force-not-root", "--force-architecture", "--log=/dev/null"] + list(args)
    r = run(cmd, env=env)
    print("$ " + " ".join(cmd) + "\n" + r.stdout)
    if r.returncode != 0:
        fail("dpkg failed")
    return r.stdout


def install(out_dir):
    problems = []
    with tempfile.TemporaryDirectory(prefix="assas-dpkg-") as tmp:
        root, stubs = os.path.join(tmp, "root"), os.path.join(tmp, "stubs")
        log, db = os.path.join(tmp, "calls.log"), os.path.join(tmp, "users.db")
        for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"):
            os.makedirs(os.path.join(root, d))
        open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
        os.makedirs(stubs)
        for name, text in [("getent", GETENT_STUB), ("adduser", ADDUSER_STUB)] + [
                (n, STUB) for n in ("chown", "systemctl", "deb-systemd-helper",
                                    "deb-systemd-invoke", "setpriv", "useradd", "usermod")]:
            with open(os.path.join(stubs, name), "w") as f:
                f.write(text)
            os.chmod(os.path.join(stubs, name), 0o755)
        with open(db, "w") as f:
            f.write("group adm\ngroup systemd-journal\n")
        open(log, "w").close()
        env = dict(os.environ, PATH=stubs + ":/usr/sbin:/usr/bin:/sbin:/bin", STUB_LOG=log,
                   STUB_DB=db)

        for package in PACKAGES:
            out = dpkg(root, env, "-i", deb_of(out_dir, package))
            if "the service is enabled but was not (re)started" not in out:
                problems.append(f"{package}: postinst did not say why it did not start the unit")
        calls = open(log).read()
        print("== calls on install\n" + calls)
        for want in [
                "adduser --system --group --home /var/lib/assas --no-create-home --quiet assas",
                "adduser --quiet assas adm", "adduser --quiet assas systemd-journal",
                "chown assas:assas " + root + "/var/lib/assas",
                "deb-systemd-helper enable assas-agent.service",
                "adduser --system --group --home /var/lib/assas-ingest --no-create-home --quiet "
                "assas-ingest",
                "chown assas-ingest:assas-ingest " + root + "/var/lib/assas-ingest",
                "deb-systemd-helper enable assas-ingest.service"]:
            if want + "\n" not in calls:
                problems.append("no call: " + want)
        for unwanted in ("systemctl", "deb-systemd-invoke", "setpriv", "assas-ingest adm"):
            if unwanted in calls:
                problems.append(f"unexpected call of {unwanted} (systemd is not running here)")
        for state in ("var/lib/assas", "var/lib/assas-ingest"):
            path = os.path.join(root, state)
            if not os.path.isdir(path) or stat.S_IMODE(os.stat(path).st_mode) != 0o700:
                problems.append(f"/{state} is not a 0700 directory")
        for package, config in (("assas-agent", "agent"), ("assas-ingest", "ingest")):
            if not os.path.isfile(os.path.join(root, "etc/assas", config + ".yaml")):
                problems.append(f"/etc/assas/{config}.yaml is not installed")
            r = run(["dpkg-query", "--admindir=" + os.path.join(root, "var/lib/dpkg"), "-W",
                     "-f=${Status} ${Conffiles}\n", package])
            if "install ok installed" not in r.stdout or f"/etc/assas/{config}.yaml" not in r.stdout:
                problems.append(f"{package}: dpkg-query: {r.stdout}")

        # Upgrade in place (the same version again): the scripts see "upgrade"/"configure <old>".
        open(log, "w").close()
        dpkg(root, env, "-i", deb_of(out_dir, "assas-agent"))
        calls = open(log).read()
        print("== calls on reinstall\n" + calls)
        if "adduser --system" in calls:
            problems.append("the upgrade created the user again")

        open(log, "w").close()
        dpkg(root, env, "--remove", "assas-agent")
        calls = open(log).read()
        print("== calls on remove\n" + calls)
        if "deb-systemd-helper mask assas-agent.service" not in calls:
            problems.append("remove did not mask the unit")
        if not os.path.exists(os.path.join(root, "etc/assas/agent.yaml")):
            problems.append("remove deleted the conffile")
        if not os.path.isdir(os.path.join(root, "var/lib/assas")):
            problems.append("remove deleted /var/lib/assas")
        if os.path.exists(os.path.join(root, "usr/bin/assas-agent")):
            problems.append("remove left /usr/bin/assas-agent")

        open(log, "w").close()
        dpkg(root, env, "--purge", "assas-agent", "assas-ingest")
        calls = open(log).read()
        print("== calls on purge\n" + calls)
        for want in ("deb-systemd-helper purge assas-agent.service",
                     "deb-systemd-helper purge assas-ingest.service"):
            if want not in calls:
                problems.append("no call: " + want)
        if os.path.exists(os.path.join(root, "var/lib/assas")):
            problems.append("purge kept /var/lib/assas")
        if not os.path.isdir(os.path.join(root, "var/lib/assas-ingest")):
            problems.append("purge deleted /var/lib/assas-ingest (the received events)")
        if os.path.exists(os.path.join(root, "etc/assas")):
            problems.append("purge left /etc/assas")
        if "userdel" in calls or "deluser" in calls:
            problems.append("purge removed a user")
    if problems:
        fail("\n  ".join([""] + problems))
    print("install ok")


def documented_dropins(unit_text):
    """The drop-ins a unit's comments document: "#   [Service]" and the "#   Key=value" lines
    that follow it."""
    dropins, current = [], None
    for line in unit_text.splitlines():
        if line == "#   [Service]":
            current = ["[Service]"]
            dropins.append(current)
        elif current is not None and re.match(r"^#   [A-Za-z]+=", line):
            current.append(line[4:])
        else:
            current = None
    return ["\n".join(d) + "\n" for d in dropins]


def exposure(unit_path, dropin):
    """systemd-analyze security --offline on a copy of the unit, with the drop-in if any."""
    with tempfile.TemporaryDirectory() as tmp:
        name = os.path.basename(unit_path)
        shutil.copy(unit_path, tmp)
        if dropin:
            os.makedirs(os.path.join(tmp, name + ".d"))
            with open(os.path.join(tmp, name + ".d", "dropin.conf"), "w") as f:
                f.write(dropin)
        r = run(["systemd-analyze", "security", "--offline=yes", name], cwd=tmp)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
    if not m:
        print(r.stdout)
        fail(f"{name}: no exposure level in systemd-analyze's output")
    return float(m.group(1)), r.stdout


def security(source_dir):
    bad = False
    for package in PACKAGES:
        unit = os.path.join(source_dir, "packaging/systemd", package + ".service")
        dropins = documented_dropins(open(unit).read())
        if not dropins:
            fail(f"{package}.service documents no drop-in")
        for dropin in [None] + dropins:
            level, table = exposure(unit, dropin)
            what = "drop-in " + dropin.replace("\n", " ").strip() if dropin else "as shipped"
            print(f"{package}.service, {what}: exposure {level}")
            if level > MAX_EXPOSURE:
                print(table)
                bad = True
    if bad:
        fail(f"a unit's exposure level is above {MAX_EXPOSURE}")


def verify(out_dir):
    # systemd-analyze verify --root: the units as installed, their binaries from the packages, and
    # from the host only what they name that other packages provide: systemd's targets and slices
    # (default dependencies) and /bin/kill (ExecReload=, from procps). No systemd as PID 1 needed.
    # Each unit alone, then with each drop-in its comments document, in /etc/systemd/system.
    bad = False
    with tempfile.TemporaryDirectory(prefix="assas-verify-") as tmp:
        for package in PACKAGES:
            root = os.path.join(tmp, package)
            unpack(deb_of(out_dir, package), root, os.path.join(tmp, package + ".DEBIAN"))
            units = os.path.join(root, "usr/lib/systemd/system")
            os.makedirs(units)
            for f in glob.glob("/usr/lib/systemd/system/*.target") + glob.glob(
                    "/usr/lib/systemd/system/*.slice"):
                shutil.copy(f, units)
            os.makedirs(os.path.join(root, "bin"), exist_ok=True)
            shutil.copy("/bin/kill", os.path.join(root, "bin/kill"))
            unit = package + ".service"
            dropin_dir = os.path.join(root, "etc/systemd/system", unit + ".d")
            os.makedirs(dropin_dir)
            dropins = documented_dropins(
                open(os.path.join(root, "lib/systemd/system", unit)).read())
            for dropin in [None] + dropins:
                if dropin:
                    with open(os.path.join(dropin_dir, "dropin.conf"), "w") as f:
                        f.write(dropin)
                r = run(["systemd-analyze", "verify", "--man=no", "--root=" + root, unit])
                what = "drop-in " + dropin.replace("\n", " ").strip() if dropin else "as shipped"
                print(f"== systemd-analyze verify {unit}, {what} (exit {r.returncode})\n{r.stdout}")
                if r.returncode != 0 or r.stdout.strip():
                    bad = True
    if bad:
        fail("systemd-analyze verify is not clean")


def main():
    check, args = sys.argv[1], sys.argv[2:]
    {"build": build, "lintian": lintian, "contents": contents, "install": install,
     "security": security, "verify": verify}[check](*args)


if __name__ == "__main__":
    main()
