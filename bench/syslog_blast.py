#!/usr/bin/env python3
"""Sends N RFC 5424 syslog messages, octet-counted (RFC 6587 3.4.1), over one TCP connection as
fast as the receiver takes them. The bytes are built before the connection is made; the sender
then prints `start_ns=<CLOCK_REALTIME ns before the first byte> bytes=<total>` and sends them with
blocking sendall() of large chunks, closes, and prints `sent_ns=<when the last byte was taken>`.

usage: syslog_blast.py PORT N [--host 127.0.0.1] [--connect-timeout 10]
"""
import argparse
import socket
import sys
import time

CHUNK = 1 << 20


def build(n):
    """The framed messages, joined into chunks of about CHUNK bytes."""
    chunks, part, size = [], [], 0
    for i in range(n):
        ms, s, m = i % 1000, (i // 1000) % 60, (i // 60000) % 60
        h = 10 + (i // 3600000) % 14
        msg = (f"<38>1 2026-11-29T{h:02d}:{m:02d}:{s:02d}.{ms:03d}Z gw-07 sshd 4242 - - blast#{i} "
               f"Accepted publickey for operator from 10.1.{i % 7}.{i % 251} port {52000 + i % 1000} ssh2")
        frame = f"{len(msg)} {msg}"  # ASCII only: characters are octets
        part.append(frame)
        size += len(frame)
        if size >= CHUNK:
            chunks.append("".join(part).encode())
            part, size = [], 0
    if part:
        chunks.append("".join(part).encode())
    return chunks


def connect(host, port, timeout):
    """Connects, retrying while the listener is not up yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection((host, port))
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("messages", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--connect-timeout", type=float, default=10)
    args = ap.parse_args()
    chunks = build(args.messages)
    sock = connect(args.host, args.port, args.connect_timeout)
    print(f"start_ns={time.time_ns()} bytes={sum(map(len, chunks))}", flush=True)
    for chunk in chunks:
        sock.sendall(chunk)
    sock.shutdown(socket.SHUT_WR)
    sock.close()
    print(f"sent_ns={time.time_ns()}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
