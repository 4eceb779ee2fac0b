"""A 1 GiB upload to a release uhttpd, as one plain PUT and as a resumable
upload (IETF draft, interop 8) in 8 MiB PATCH pieces, twice each,
interleaved: MB/s, server CPU per MB, and the server's RSS sampled every
0.1 s (issue 13's figures).

    cargo build --release
    head -c 1073741824 /dev/urandom > big.bin
    UHTTPD_BIN=target/release/uhttpd python3 bench/resumable.py   # in the directory of big.bin
"""

import http.client, os, subprocess, threading, time, re, shutil, tempfile

BIN = os.environ.get("UHTTPD_BIN", "target/release/uhttpd")
WORK = tempfile.mkdtemp(prefix="uhttpd-resumable-")
SIZE = os.path.getsize("big.bin")
PIECE = 8 << 20

def start():
    up = os.path.join(WORK, "up")
    shutil.rmtree(up, ignore_errors=True); os.makedirs(up)
    p = subprocess.Popen([BIN, "--port", "0", "--bind", "127.0.0.1", "--upload-dir", up,
                          "--max-upload-size", "2G", "-q", os.path.join(WORK, "root")],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        if m:
            return p, int(m.group(1))
    raise SystemExit("no port")

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

def rss(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"):
            return int(l.split()[1])

def sampler(pid, out, stop):
    while not stop.is_set():
        try: out.append(rss(pid))
        except Exception: break
        time.sleep(0.1)

def measure(name, fn):
    p, port = start()
    samples, stop = [], threading.Event()
    t = threading.Thread(target=sampler, args=(p.pid, samples, stop)); t.start()
    c0, t0 = cpu(p.pid), time.monotonic()
    fn(port)
    dt, dc = time.monotonic() - t0, cpu(p.pid) - c0
    stop.set(); t.join()
    got = os.path.getsize(os.path.join(WORK, "up", "big.bin"))
    assert got == SIZE, got
    p.terminate(); p.wait()
    mb = SIZE / 1e6
    print(f"{name}: {mb/dt:.0f} MB/s, server CPU {dc*1000/mb:.2f} ms/MB, RSS {min(samples)}..{max(samples)} KiB ({len(samples)} samples)")

def put(port):
    c = http.client.HTTPConnection("127.0.0.1", port)
    with open("big.bin", "rb") as f:
        c.request("PUT", "/upload/big.bin", body=f, headers={"Content-Length": str(SIZE)})
    r = c.getresponse(); r.read(); assert r.status == 201, r.status

def resumable(port):
    import socket
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("POST /upload/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               "Upload-Draft-Interop-Version: 8\r\nUpload-Complete: ?0\r\n"
               f"Upload-Length: {SIZE}\r\nContent-Length: 0\r\n\r\n").encode())
    raw = b""
    while True:
        chunk = s.recv(65536)
        if not chunk: break
        raw += chunk
    s.close()
    heads = [h for h in raw.decode("latin-1").split("\r\n\r\n") if h.startswith("HTTP/1.1 2")]
    assert heads, raw[:300]
    loc = re.search(r"(?im)^location: *(\S+)", heads[0]).group(1)
    c = http.client.HTTPConnection("127.0.0.1", port)
    off = 0
    with open("big.bin", "rb") as f:
        while off < SIZE:
            data = f.read(PIECE)
            last = off + len(data) == SIZE
            c.request("PATCH", loc, body=data, headers={
                "Upload-Draft-Interop-Version": "8", "Content-Type": "application/partial-upload",
                "Upload-Offset": str(off), "Upload-Complete": "?1" if last else "?0"})
            r = c.getresponse(); r.read()
            assert r.status in (201, 204, 200), (r.status, off)
            off += len(data)

os.makedirs(os.path.join(WORK, "root"), exist_ok=True)
for name, fn in [("plain PUT", put), ("resumable, 8 MiB PATCHes", resumable), ("plain PUT", put), ("resumable, 8 MiB PATCHes", resumable)]:
    measure(name, fn)
shutil.rmtree(WORK)
