#!/usr/bin/env python3
"""Turns bench/run.sh's raw results into a table of medians.

    report.py RESULTS.tsv MACHINE.md OUT.md [SECTION.md]   (OUT.md "-": print only)

RESULTS.tsv lines: scenario, metric, server, round, value (metric "error":
value is the message). The table shows each figure's median over the
rounds, uhttpd's ratio to nginx and to the best peer (the better of nginx
and lighttpd for that figure), and the issue 6 target for the row.
SECTION.md (scenario 12's frameworks table) follows the table, one heading
level down.
"""

import statistics
import os
import sys
from collections import defaultdict

PEERS = ("nginx", "lighttpd")
MIB = 1024 * 1024


def fmt_int(v):
    return f"{v:,.0f}"


def fmt_2(v):
    return f"{v:.2f}"


def fmt_mib(v):
    return f"{v / MIB:.2f} MiB"


# (scenario, metric, label, lower is better, format, target)
# A target is (text, kind, threshold): kind "best" compares uhttpd with the
# best peer, "nginx" with nginx, "abs" with the threshold itself.
ROWS = [
    ("1", "rps", "1 · 1 KiB, keep-alive, 1 conn: req/s", False, fmt_int, ("≥1.2× best, or CPU ≤0.8×", "best", 1.2)),
    ("1", "cpu_us", "1 · CPU µs / request", True, fmt_2, ("≤0.8× best", "best", 0.8)),
    ("2", "rps", "2 · 1 KiB, keep-alive, 64 conns: req/s", False, fmt_int, ("≥1.2× best, or CPU ≤0.8×", "best", 1.2)),
    ("2", "cpu_us", "2 · CPU µs / request", True, fmt_2, ("≤0.8× best", "best", 0.8)),
    ("2", "p50_ms", "2 · p50 latency, ms", True, fmt_2, None),
    ("2", "p99_ms", "2 · p99 latency, ms", True, fmt_2, ("≤1.0× best", "best", 1.0)),
    ("3", "rps", "3 · 1 KiB, keep-alive, 1000 conns: req/s", False, fmt_int, ("≥1.2× best, or CPU ≤0.8×", "best", 1.2)),
    ("3", "cpu_us", "3 · CPU µs / request", True, fmt_2, ("≤0.8× best", "best", 0.8)),
    ("4", "rps", "4 · 1 KiB, new conn per request (ab -c 64): req/s", False, fmt_int, ("≥1.2× best, or CPU ≤0.8×", "best", 1.2)),
    ("4", "cpu_us", "4 · CPU µs / request", True, fmt_2, ("≤0.8× best", "best", 0.8)),
    ("5", "mbps_1", "5 · 100 MiB file, 1 download: MB/s", False, fmt_int, ("≥1.0× nginx", "nginx", 1.0)),
    ("5", "mbps_4", "5 · 100 MiB file, 4 downloads: MB/s", False, fmt_int, ("≥1.0× nginx", "nginx", 1.0)),
    ("5", "cpu_us_per_mb_1", "5 · CPU µs / MB, 1 download", True, fmt_2, None),
    ("5", "cpu_us_per_mb_4", "5 · CPU µs / MB, 4 downloads", True, fmt_2, None),
    ("6", "rps", "6 · /rpc vs nginx return 200, 64 conns: req/s", False, fmt_int, ("≥0.8× nginx", "nginx", 0.8)),
    ("6", "cpu_us", "6 · CPU µs / request", True, fmt_2, None),
    ("7", "rss_start", "7 · RSS after start", True, fmt_mib, ("≤2.5 MiB", "abs", 2.5 * MIB)),
    ("7", "uss_start", "7 · USS after start", True, fmt_mib, None),
    ("7", "rss_idle", "7 · RSS with idle keep-alive conns", True, fmt_mib, None),
    ("7", "bytes_per_conn", "7 · bytes / idle keep-alive conn", True, fmt_int, ("≤512 B", "abs", 512)),
    ("8", "rps", "8 · HTTPS 1 KiB, keep-alive, 64 conns: req/s", False, fmt_int, ("≥1.0× best", "best", 1.0)),
    ("8", "cpu_us", "8 · HTTPS CPU µs / request", True, fmt_2, None),
    ("8", "handshakes", "8 · full TLS handshakes / s (ab -c 64)", False, fmt_int, ("≥1.0× best", "best", 1.0)),
    ("8", "cpu_us_handshake", "8 · CPU µs / handshake", True, fmt_2, None),
    ("11", "mbps_1", "11 · HTTPS 100 MiB file, 1 download: MB/s", False, fmt_int, ("≥1.0× nginx", "nginx", 1.0)),
    ("11", "mbps_4", "11 · HTTPS 100 MiB file, 4 downloads: MB/s", False, fmt_int, ("≥1.0× nginx", "nginx", 1.0)),
    ("11", "cpu_us_per_mb_1", "11 · HTTPS CPU µs / MB, 1 download", True, fmt_2, None),
    ("11", "cpu_us_per_mb_4", "11 · HTTPS CPU µs / MB, 4 downloads", True, fmt_2, None),
    ("9", "rps", "9 · 2 workers, unpinned, 64 conns: req/s", False, fmt_int, ("≥1.0× nginx", "nginx", 1.0)),
    ("9", "cpu_us", "9 · 2 workers: CPU µs / request", True, fmt_2, None),
    ("9", "p99_ms", "9 · 2 workers: p99 latency, ms", True, fmt_2, None),
    ("10", "gzip_fly_rps", "10 · 100 KiB JS, gzip on the fly (nginx gzip on; uhttpd --compress), 64 conns: req/s", False, fmt_int, None),
    ("10", "gzip_fly_cpu_us", "10 · gzip on the fly: CPU µs / request", True, fmt_2, None),
    ("10", "gzip_fly_bytes", "10 · gzip on the fly: bytes / response", True, fmt_int, None),
    ("10", "gzip_static_rps", "10 · 100 KiB JS, .gz sibling (nginx gzip_static), 64 conns: req/s", False, fmt_int, None),
    ("10", "gzip_static_cpu_us", "10 · .gz sibling: CPU µs / request", True, fmt_2, None),
    ("10", "gzip_static_bytes", "10 · .gz sibling: bytes / response", True, fmt_int, None),
    ("10", "br_fly_rps", "10 · uhttpd brotli on the fly (br, gzip): req/s", False, fmt_int, None),
    ("10", "br_fly_cpu_us", "10 · brotli on the fly: CPU µs / request", True, fmt_2, None),
    ("10", "br_fly_bytes", "10 · brotli on the fly: bytes / response", True, fmt_int, None),
    ("10", "br_static_rps", "10 · uhttpd .br sibling (br, gzip): req/s", False, fmt_int, None),
    ("10", "br_static_cpu_us", "10 · .br sibling: CPU µs / request", True, fmt_2, None),
    ("10", "br_static_bytes", "10 · .br sibling: bytes / response", True, fmt_int, None),
]

# Scenario 9's servers, shown in the nginx and uhttpd columns.
S9_NAMES = {"nginx-2w": "nginx", "uhttpd-2w": "uhttpd"}


def load(path):
    values = defaultdict(list)
    errors = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 5:
                continue
            scenario, metric, server, rnd, value = parts
            if metric == "error":
                errors.append((scenario, server, rnd, value))
                continue
            if scenario == "9":
                server = S9_NAMES.get(server, server)
            try:
                values[(scenario, metric, server)].append(float(value))
            except ValueError:
                errors.append((scenario, server, rnd, f"{metric}: not a number: {value}"))
    return values, errors


def ratio(a, b):
    return a / b if a is not None and b else None


def main(raw, machine_path, out_path, section_path=None):
    values, errors = load(raw)
    median = {k: statistics.median(v) for k, v in values.items()}

    def m(scenario, metric, server):
        return median.get((scenario, metric, server))

    table = [
        "| figure | nginx | lighttpd | uhttpd | uhttpd ÷ nginx | uhttpd ÷ best peer | target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for scenario, metric, label, lower, fmt, target in ROWS:
        cells = {s: m(scenario, metric, s) for s in (*PEERS, "uhttpd")}
        if all(v is None for v in cells.values()):
            continue
        peers = [cells[p] for p in PEERS if cells[p] is not None]
        best = (min(peers) if lower else max(peers)) if peers else None
        u = cells["uhttpd"]
        to_nginx, to_best = ratio(u, cells["nginx"]), ratio(u, best)
        met, text = "", ""
        if target:
            text, kind, threshold = target
            measured = {"best": to_best, "nginx": to_nginx, "abs": u}[kind]
            if measured is not None:
                ok = measured <= threshold if lower else measured >= threshold
                if not ok and metric == "rps" and scenario in "1234":
                    # Either req/s or CPU per request may meet scenarios 1-4.
                    cpu = ratio(m(scenario, "cpu_us", "uhttpd"), best_of(m, scenario, "cpu_us"))
                    ok = cpu is not None and cpu <= 0.8
                met = "yes" if ok else "**no**"

        def show(v):
            return fmt(v) if v is not None else "–"

        def show_ratio(r):
            return f"{r:.2f}×" if r is not None else "–"

        table.append(
            f"| {label} | {show(cells['nginx'])} | {show(cells['lighttpd'])} | {show(u)} "
            f"| {show_ratio(to_nginx)} | {show_ratio(to_best)} | {text} | {met} |"
        )
    one = m("9", "rps", "uhttpd-1w")
    two = m("9", "rps", "uhttpd")
    if one:
        table.append(f"| 9 · uhttpd 1 worker, unpinned: req/s | | | {fmt_int(one)} | | | | |")
        if two:
            table.append(f"| 9 · uhttpd scaling 1 → 2 workers (reported, not a target) | | | {two / one:.2f}× | | | | |")

    with open(machine_path) as f:
        machine = f.read()

    runs = ["| scenario · figure | server | values per round |", "| --- | --- | --- |"]
    for (scenario, metric, server), vals in sorted(values.items()):
        shown = ", ".join(f"{v:.0f}" if abs(v) >= 1000 else f"{v:.4g}" for v in vals)
        runs.append(f"| {scenario} · {metric} | {server} | {shown} |")

    doc = [
        "# Benchmark results",
        "",
        "Written by `bench/run.sh` (see the README's *Benchmarks* section) for",
        "the commit named below. The machine is shared and noisy: only ratios",
        "from this one run mean anything, not the absolute numbers.",
        "",
        "## Machine",
        "",
        machine.rstrip(),
        "",
        "## Medians",
        "",
        "Ratios are uhttpd's median over the other server's. For req/s and MB/s",
        "higher is better; for CPU time, latency and memory lower is better, and",
        "the best peer is the lower one. CPU time is the server's utime + stime",
        "(/proc/PID/stat, nginx master and workers together) over the run, divided",
        "by the requests served. Memory sums the server's processes (nginx: master",
        "and worker); USS is Private_Clean + Private_Dirty from smaps_rollup.",
        "Scenario 9's nginx and uhttpd columns are their 2-worker runs.",
        "",
        *table,
        "",
    ]
    if section_path and os.path.exists(section_path):
        with open(section_path) as f:
            section = f.read().rstrip()
        doc += ["#" + line if line.startswith("#") else line for line in section.splitlines()]
        doc.append("")
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
    if os.path.exists(notes):
        with open(notes) as f:
            doc += [f.read().rstrip(), ""]
    if errors:
        doc += ["## Failures", ""]
        doc += [f"- scenario {s}, {srv}, round {r}: {msg}" for s, srv, r, msg in errors]
        doc.append("")
    doc += ["## Every run", "", *runs, ""]
    text = "\n".join(doc)

    print("\n".join(table))
    if errors:
        print(f"\n{len(errors)} failure(s):")
        for s, srv, r, msg in errors:
            print(f"  scenario {s}, {srv}, round {r}: {msg}")
    if out_path != "-":
        with open(out_path, "w") as f:
            f.write(text)
    return 0


def best_of(m, scenario, metric):
    vals = [v for v in (m(scenario, metric, p) for p in PEERS) if v is not None]
    return min(vals) if vals else None


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
