#!/usr/bin/env python3
"""Reads an Autobahn TestSuite fuzzingclient report and judges it.

    report.py REPORT_DIR [REPORT_DIR...]

Reads one report, or several (the parts of one run split across parallel
clients) as one. Prints the per-group counts (1.*, 2.*, ... by behaviour), every case that is
not OK with its description and the suite's verdict, and the 9.7.* / 9.8.*
round trips as messages per second. Exits 0 when every case is OK, its
closing handshake included (or INFORMATIONAL where the suite leaves the
behaviour to the server, see INFORMATIONAL_BY_DESIGN); 1 otherwise, or when
there is no usable report.
"""

import json
import re
import sys
from pathlib import Path

BEHAVIOURS = ["OK", "NON-STRICT", "INFORMATIONAL", "FAILED", "UNIMPLEMENTED"]

# The cases the suite itself marks INFORMATIONAL whatever the server does:
# their onConnectionLost (autobahntestsuite/case/case7_1_6.py,
# case7_13_1.py, case7_13_2.py) sets behavior = INFORMATIONAL
# unconditionally, since RFC 6455 leaves the outcome to the implementation.
# No other case can end INFORMATIONAL. Since the verdict says nothing
# here, the close code the server sent must still be one the case's
# expectedClose lists (the value: the codes allowed).
INFORMATIONAL_BY_DESIGN = {
    # A 256 KiB text message, a short one, a Close, a Ping, back to back:
    # whether the short message is echoed before the Close depends on the
    # server's close behaviour ("Case outcome depends on implementation
    # defined close behavior"). The result text says which way it went.
    "7.1.6": {1000},
    # Close codes 5000 and 65535, outside every registered range:
    # "Actual events are undefined by the spec."; echoing the code, 1000
    # or 1002 are all expected.
    "7.13.1": {1000, 1002, 5000},
    "7.13.2": {1000, 1002, 65535},
}

# "Send 1000 text messages of payload size 16 to measure ..." (case9_7_X.py)
ROUND_TRIPS = re.compile(r"Send (\d+) (text|binary) messages of payload size (\d+)")


def case_key(case_id):
    return tuple(int(part) for part in case_id.split("."))


def one_line(text, limit=200):
    text = re.sub(r"<[^>]+>", " ", str(text or ""))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load(report_dir):
    """The cases of `report_dir`, each knowing its directory ("dir")."""
    index_path = report_dir / "index.json"
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError) as e:
        sys.exit(f"autobahn: no usable report at {index_path}: {e}")
    if len(index) != 1 or not next(iter(index.values())):
        sys.exit(f"autobahn: {index_path} should hold the cases of one agent, has {list(index)}")
    cases = next(iter(index.values()))
    for case in cases.values():
        case["dir"] = report_dir
    return cases


def detail(case):
    """The case's own report (description, result), or {} when unreadable."""
    try:
        return json.loads((case["dir"] / case["reportfile"]).read_text())
    except (OSError, ValueError, KeyError):
        return {}


def print_table(cases):
    groups = {}
    for case_id, case in cases.items():
        groups.setdefault(case_id.split(".")[0], []).append(case["behavior"])
    others = sorted({b for bs in groups.values() for b in bs} - set(BEHAVIOURS))
    columns = BEHAVIOURS + others
    header = ["group"] + columns + ["total"]
    rows = []
    for group in sorted(groups, key=int):
        behaviours = groups[group]
        rows.append([f"{group}.*"] + [str(behaviours.count(c)) for c in columns] + [str(len(behaviours))])
    every = [b for bs in groups.values() for b in bs]
    rows.append(["total"] + [str(every.count(c)) for c in columns] + [str(len(every))])
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        print("  " + "  ".join(cell.rjust(width) for cell, width in zip(row, widths)))


def print_timings(cases):
    lines = []
    for case_id in sorted(cases, key=case_key):
        if not (case_id.startswith("9.7.") or case_id.startswith("9.8.")):
            continue
        case = cases[case_id]
        match = ROUND_TRIPS.search(detail(case).get("description", ""))
        if not match:
            continue
        count, kind, size = int(match[1]), match[2], int(match[3])
        ms = case["duration"]
        rate = f"{count * 1000 / ms:9.0f} msg/s" if ms > 0 else "        - msg/s"
        verdict = "" if case["behavior"] == "OK" else f"  ({case['behavior']})"
        lines.append(f"  {case_id:<6} {count} {kind:<6} of {size:>4} B: {ms:>6} ms {rate}{verdict}")
    if lines:
        print("\nautobahn: round trips, one message in flight (9.7 text, 9.8 binary):")
        print("\n".join(lines))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    report_dirs = [Path(arg) for arg in sys.argv[1:]]
    cases = {}
    for report_dir in report_dirs:
        for case_id, case in load(report_dir).items():
            if case_id in cases:
                sys.exit(f"autobahn: case {case_id} is in two reports")
            cases[case_id] = case

    print(f"autobahn: {len(cases)} cases by group")
    print_table(cases)

    failed = []
    informational = []
    for case_id in sorted(cases, key=case_key):
        case = cases[case_id]
        behaviour = case["behavior"]
        # The close verdict apart from the case's: a message echoed right but
        # the connection then dropped without a close handshake (UNCLEAN)
        # or with a wrong code is not OK either.
        if behaviour == "OK" and case["behaviorClose"] == "OK":
            continue
        allowed_codes = INFORMATIONAL_BY_DESIGN.get(case_id)
        if behaviour == "INFORMATIONAL" and allowed_codes:
            if case["remoteCloseCode"] in allowed_codes:
                informational.append(case_id)
                continue
            case["why"] = f"the close code should be one of {sorted(allowed_codes)}"
        failed.append(case_id)

    def describe(case_id):
        case = cases[case_id]
        own = detail(case)
        print(f"  {case_id} {case['behavior']} (close {case['behaviorClose']}, code {case['remoteCloseCode']})")
        print(f"      case:   {one_line(own.get('description', '?'))}")
        print(f"      result: {one_line(own.get('result', '?'))}")
        if case["behaviorClose"] not in ("OK", "INFORMATIONAL"):
            print(f"      close:  {one_line(own.get('resultClose', '?'))}")
        if "why" in case:
            print(f"      why:    {case['why']}")

    if informational:
        print("\nautobahn: INFORMATIONAL by the suite's design (allowed):")
        for case_id in informational:
            describe(case_id)
    if failed:
        print(f"\nautobahn: {len(failed)} cases not OK:")
        # UNIMPLEMENTED (an extension the server does not negotiate) comes in
        # whole sub-groups of 18: one line each.
        unimplemented = {}
        for case_id in failed:
            if cases[case_id]["behavior"] == "UNIMPLEMENTED":
                unimplemented.setdefault(case_id.rsplit(".", 1)[0], []).append(case_id)
            else:
                describe(case_id)
        for ids in unimplemented.values():
            own = detail(cases[ids[0]])
            span = ids[0] if len(ids) == 1 else f"{ids[0]}..{ids[-1]}"
            print(f"  {span} UNIMPLEMENTED ({len(ids)} cases)")
            print(f"      first:  {one_line(own.get('description', '?'))}")

    print_timings(cases)
    pages = ", ".join(str(d / "index.html") for d in report_dirs)
    print(f"\nautobahn: report at {pages}")
    if failed:
        print(f"autobahn: FAILED: {len(failed)} of {len(cases)} cases not OK")
        return 1
    print(f"autobahn: all {len(cases)} cases OK ({len(informational)} INFORMATIONAL by design)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
