#!/usr/bin/env python3
"""Small measuring tools for bench/run.sh (standard library only).

    helper.py cpu PID...             utime+stime of the processes, in seconds
    helper.py mem PID...             "RSS USS" in bytes, summed over the processes
    helper.py tree PID               PID and all its descendants, one per line
    helper.py probe URL              exit 0 once URL answers 200 (5 s at most)
    helper.py idle HOST PORT PATH N  open N keep-alive connections, send one
                                     request on each, read its response, print
                                     "ready HELD FAILED" and hold them open
                                     until killed (120 s at most)
    helper.py script BYTES           a JavaScript-like text of BYTES bytes on stdout
                                     (the same every time)
    helper.py fetch URL CODING       the body of URL asked for in CODING, as sent
                                     (not decoded), on stdout
"""

import os
import resource
import socket
import ssl
import sys
import time
import urllib.request


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # The command name is in parentheses and may contain spaces.
    return data[data.rindex(")") + 2 :].split()


def cpu_seconds(pids):
    ticks = 0
    for pid in pids:
        fields = stat_fields(pid)
        # Fields 14 and 15 of proc(5), counted after "pid (comm)".
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def memory(pid):
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    uss = 0
    path = f"/proc/{pid}/smaps_rollup"
    if not os.path.exists(path):
        path = f"/proc/{pid}/smaps"
    with open(path) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                uss += int(line.split()[1]) * 1024
    return rss, uss


def descendants(root):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(stat_fields(entry)[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [int(root)]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def probe(url):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + 5
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1, context=context) as resp:
                resp.read()
                return 0 if resp.status == 200 else 1
        except OSError:
            if time.monotonic() > deadline:
                return 1
            time.sleep(0.05)


def script(size):
    """Deterministic code-like text: functions over a small vocabulary with
    numbers and strings, compressing about as real minified-ish code does."""
    import random

    rng = random.Random(10)
    words = ["value", "index", "items", "config", "result", "element", "options",
             "handler", "state", "count", "node", "event", "data", "target", "key"]
    out = []
    total = 0
    n = 0
    while total < size:
        a, b, c = (rng.choice(words) for _ in range(3))
        line = (f"function {a}{n}({b}, {c}) {{ const {a} = {b}.{c} + {rng.randint(0, 99999)}; "
                f"if ({a} > {rng.randint(0, 999)}) {{ return \"{rng.getrandbits(40):x}\"; }} "
                f"return {c}.map(({b}) => {b} * {rng.randint(2, 9)}); }}\n")
        out.append(line)
        total += len(line)
        n += 1
    sys.stdout.write("".join(out)[:size])


def fetch(url, coding):
    req = urllib.request.Request(url, headers={"Accept-Encoding": coding})
    with urllib.request.urlopen(req, timeout=10) as resp:
        if resp.headers.get("Content-Encoding") != coding:
            print(f"{url}: not sent in {coding}", file=sys.stderr)
            return 1
        sys.stdout.buffer.write(resp.read())
    return 0


def read_response(sock):
    """Reads one response with a Content-Length body; False if it failed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return False
        body += chunk
    return head.startswith(b"HTTP/1.1 200")


def idle(host, port, path, count):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    held, failed = [], 0
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(5)
        try:
            sock.connect((host, port))
            sock.sendall(request)
            if read_response(sock):
                held.append(sock)
                continue
        except OSError:
            pass
        failed += 1
        sock.close()
    print(f"ready {len(held)} {failed}", flush=True)
    time.sleep(120)
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "cpu":
        print(f"{cpu_seconds(args):.2f}")
    elif cmd == "mem":
        totals = [sum(m) for m in zip(*(memory(p) for p in args))]
        print(*totals)
    elif cmd == "tree":
        print("\n".join(str(p) for p in descendants(args[0])))
    elif cmd == "probe":
        return probe(args[0])
    elif cmd == "script":
        script(int(args[0]))
    elif cmd == "fetch":
        return fetch(args[0], args[1])
    elif cmd == "idle":
        return idle(args[0], int(args[1]), args[2], int(args[3]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
