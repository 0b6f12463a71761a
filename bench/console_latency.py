"""Console response times on the dev stack: the page, the panels poll and the 90-day CSV export.

    .venv/bin/python bench/console_latency.py [--requests 20]

Starts ``DevStack`` (real Prometheus, Alertmanager, exporters), lists the demo IP and takes the demo
app down so the feed and the table have content, waits 20 s, then times sequential requests.  Prints
the load average with the figures: the machine is shared, so they are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from infrawatch_dev.devstack.stack import DevStack


def timed(url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as r:
            r.read()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=20)
    args = p.parse_args()
    with DevStack(Path(tempfile.mkdtemp(prefix="console-bench-"))) as st:
        st.wait_ready(120)
        st.set_listed(True)
        st.set_app_health("down")
        time.sleep(20)
        base = st.console.page_url
        for name, url, n in (
            ("page", base, args.requests),
            ("panels poll", base + "/panels", args.requests),
            ("CSV 90 days", f"{base}/ip/{st.demo_target}/history.csv", 3),
        ):
            ts = timed(url, n)
            print(
                f"{name:<12} median {statistics.median(ts) * 1000:.0f} ms, max {max(ts) * 1000:.0f} ms ({n} requests)"
            )
        print("load average:", Path("/proc/loadavg").read_text().strip())


if __name__ == "__main__":
    main()
