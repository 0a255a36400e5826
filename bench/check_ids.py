#!/usr/bin/env python3
"""Checks that the JSON lines in the files matching GLOB hold each of the ids 0..N-1 exactly once.
The id is the number that starts each line of a corpus made by make_corpus.py; it is read from
the first "message" (assas-ingest) or "msg" (the rsyslog and syslog-ng receivers' templates in
docs/outputs/) field of each line. Prints `ids=ok`, or `ids=missing:M,doubled:D,other:O` (other:
lines without an id in 0..N-1); exits 1 unless every id is there exactly once.

usage: check_ids.py GLOB N
"""
import glob
import re
import sys

ID = re.compile(rb'"(?:message|msg)"\s*:\s*"\s*(\d+) ')


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    pattern, n = sys.argv[1], int(sys.argv[2])
    seen = bytearray(n)  # how often each id came, capped at 255
    doubled = other = 0
    for path in sorted(glob.glob(pattern)):
        with open(path, "rb") as f:
            for line in f:
                m = ID.search(line)
                i = int(m.group(1)) if m else -1
                if not 0 <= i < n:
                    other += 1
                elif seen[i]:
                    doubled += 1
                    seen[i] = min(seen[i] + 1, 255)
                else:
                    seen[i] = 1
    missing = seen.count(0)
    if missing or doubled or other:
        print(f"ids=missing:{missing},doubled:{doubled},other:{other}")
        sys.exit(1)
    print("ids=ok")


if __name__ == "__main__":
    main()
