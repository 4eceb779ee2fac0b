-- wrk's report for the fleet tests (tests/cli/fleet.rs) and scripts/fleet.sh:
-- one line of figures, errors by kind (status: answers of 400 and above).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "fleet: requests=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
