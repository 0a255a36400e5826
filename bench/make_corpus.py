#!/usr/bin/env python3
"""Makes a benchmark log file of realistic lines: loghub samples (../shared/corpora/loghub, see its
README for licenses) used as templates, CR stripped, each line made unique by a sequence number so
that delivery can be checked line by line.

usage: make_corpus.py SIZE OUT      SIZE like 1GB, 200MB, 5000000 (bytes)
"""
import glob
import os
import sys

UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20,
         "GIB": 2**30}


def parse_size(text):
    number = text.rstrip("BKMGIbkmgi")
    return int(float(number) * UNITS[text[len(number):].upper()])


def templates():
    here = os.path.dirname(os.path.abspath(__file__))
    corpora = os.path.join(here, "..", "..", "shared", "corpora", "loghub")
    lines = []
    for path in sorted(glob.glob(os.path.join(corpora, "*.log"))):
        with open(path, "rb") as f:
            lines += [l.rstrip(b"\r\n") for l in f if l.strip()]
    if not lines:
        sys.exit("no templates found under " + corpora)
    return lines


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    size, out = parse_size(sys.argv[1]), sys.argv[2]
    lines = templates()
    written = count = 0
    with open(out + ".tmp", "wb", buffering=1 << 20) as f:
        while written < size:
            chunk = []
            for template in lines:
                chunk.append(b"%d %s\n" % (count, template))
                count += 1
            data = b"".join(chunk)
            f.write(data)
            written += len(data)
    os.rename(out + ".tmp", out)
    print(f"{out}: {count} lines, {written} bytes")


if __name__ == "__main__":
    main()
