#!/usr/bin/env python3
"""Waits until the files matching GLOB hold at least N lines, reading only the bytes added since
the last look (cheap enough not to disturb what is measured), every POLL_SECONDS (0.25 unless
given). Prints the count; exits 1 if the deadline passes first.

usage: count_lines.py GLOB N TIMEOUT_SECONDS [POLL_SECONDS]
"""
import glob
import sys
import time


def main():
    pattern, want, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    poll = float(sys.argv[4]) if len(sys.argv) > 4 else 0.25
    offsets = {}
    count = 0
    deadline = time.monotonic() + timeout
    while True:
        for path in sorted(glob.glob(pattern)):
            with open(path, "rb") as f:
                f.seek(offsets.get(path, 0))
                while True:
                    data = f.read(8 << 20)
                    if not data:
                        break
                    count += data.count(b"\n")
                offsets[path] = f.tell()
        if count >= want or time.monotonic() > deadline:
            break
        time.sleep(poll)
    print(count)
    sys.exit(0 if count >= want else 1)


if __name__ == "__main__":
    main()
