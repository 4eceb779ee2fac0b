#!/usr/bin/env python3
"""A fixed amount of load, for counting (callgrind.sh): CONNS connections
each send ROUNDS batches of DEPTH requests for PATH (one write per batch)
and read every answer before the next batch.

    load.py PORT PATH CONNS ROUNDS DEPTH
"""
import socket
import sys

port, path = int(sys.argv[1]), sys.argv[2]
conns, rounds, depth = (int(a) for a in sys.argv[3:6])
marker = b"Hello, World!"
request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(conns)]
for _ in range(rounds):
    for s in socks:
        s.sendall(request * depth)
    for s in socks:
        seen, tail = 0, b""
        while seen < depth:
            data = s.recv(1 << 16)
            if not data:
                sys.exit("connection closed early")
            buf = tail + data
            seen += buf.count(marker)
            tail = buf[-(len(marker) - 1):]
for s in socks:
    s.close()
print(conns * rounds * depth)
