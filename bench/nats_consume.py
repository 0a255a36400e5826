#!/usr/bin/env python3
"""Reads every message of a JetStream stream with an ephemeral pull consumer and appends each
message's body to a file, for bench/nats.sh (the SIEM's side). Plain NATS protocol over a socket,
standard library only: JetStream's API subjects ($JS.API.CONSUMER.CREATE, ...MSG.NEXT) as any
client uses them. Runs until killed, or until --lines newline-ended lines were written.

  bench/nats_consume.py HOST:PORT STREAM FILTER OUT_FILE [--lines N]
"""
import json
import socket
import sys


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    host, port = sys.argv[1].rsplit(":", 1)
    stream, filt, out_path = sys.argv[2], sys.argv[3], sys.argv[4]
    want = int(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[5] == "--lines" else 0
    sock = socket.create_connection((host, int(port)))
    f = sock.makefile("rb", buffering=1 << 20)
    f.readline()  # INFO
    sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,'
                 b'"protocol":1}\r\nSUB _INBOX.bench.> 1\r\n')

    def pub(subject, reply, body):
        data = body.encode()
        sock.sendall(f"PUB {subject} {reply} {len(data)}\r\n".encode() + data + b"\r\n")

    def frame():
        while True:
            line = f.readline()
            if not line:
                sys.exit("connection closed")
            if line.startswith(b"PING"):
                sock.sendall(b"PONG\r\n")
                continue
            parts = line.split()
            if parts[0] in (b"MSG", b"HMSG"):
                total = int(parts[-1])
                hdr = int(parts[-2]) if parts[0] == b"HMSG" else 0
                payload = f.read(total + 2)[:total]
                return parts[1].decode(), payload[:hdr], payload[hdr:]
            if parts[0] == b"-ERR":
                sys.exit(line.decode())

    config = {"ack_policy": "none", "deliver_policy": "all", "filter_subject": filt}
    pub(f"$JS.API.CONSUMER.CREATE.{stream}", "_INBOX.bench.create",
        json.dumps({"stream_name": stream, "config": config}))
    _, _, answer = frame()
    name = json.loads(answer).get("name") or sys.exit(f"consumer not created: {answer!r}")
    lines = 0
    with open(out_path, "ab", buffering=0) as out:
        while not want or lines < want:
            # At most 16 MiB per request: the server cuts off a client with more than 64 MiB
            # pending (a "slow consumer"), and a batch message is up to 1 MiB.
            pub(f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}", "_INBOX.bench.next",
                json.dumps({"batch": 256, "max_bytes": 16 << 20, "expires": 500_000_000}))
            got = 0
            while got < 256:
                _, headers, body = frame()
                if headers.startswith(b"NATS/1.0 4"):  # 404 no messages, 408 timeout: ask again
                    break
                if headers.startswith(b"NATS/1.0 1"):  # 100: idle heartbeat or flow control
                    continue
                got += 1
                out.write(body)
                lines += body.count(b"\n")
                if want and lines >= want:
                    break


if __name__ == "__main__":
    main()
