"""The situation packet's cost on the demo's data, in CPU time (a benchmark, not a test).

Loads the demo (`deconflict demo`) into a temporary SQLite database and, for each party at now and now +
3 h, times the packet (gathering through need-to-know, then laying out the PDF) with
``time.process_time`` (CPU of this process: unaffected by other load on the machine), against a baseline
measured in the same run: the same party's GeoJSON export (``GET /v1/export``), which gathers the same
objects. The first packet of the process also reads the basemap files once; it is timed apart.

    .venv/bin/python bench/packet.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from deconfliction.formats.packet import render_packet
from deconfliction.service.demo import load_demo
from deconfliction.service.packet import build_packet
from deconfliction.service.transfer import export_geojson
from deconfliction.settings import Settings
from deconfliction.store import open_store


def cpu(job: Callable[[], Any], repeat: int) -> float:
    """The median CPU seconds of ``repeat`` runs of ``job``."""
    times = []
    for _ in range(repeat):
        t = time.process_time()
        job()
        times.append(time.process_time() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measure (the median is shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rt = Settings().runtime(open_store(f"sqlite:///{Path(tmp) / 'demo.db'}"))
        try:
            load = load_demo(rt)
            first_party = load.parties[0][0]
            t = time.process_time()
            render_packet(build_packet(rt, first_party, rt.clock()))
            print(f"first packet of the process (reads the basemap files): {time.process_time() - t:.3f} s CPU")
            print(f"{'party':<22}{'at':>8}{'gather s':>10}{'layout s':>10}{'PDF KB':>10}{'export s':>10}{'ratio':>8}")
            for party, _ in load.parties:
                for hours in (0, 3):
                    at = rt.clock() + timedelta(hours=hours)
                    gather_s = cpu(lambda p=party, a=at: build_packet(rt, p, a), args.repeat)
                    packet = build_packet(rt, party, at)
                    layout_s = cpu(lambda pk=packet: render_packet(pk), args.repeat)
                    size = len(render_packet(packet)) / 1024
                    export_s = cpu(lambda p=party: export_geojson(rt, p), args.repeat)
                    ratio = (gather_s + layout_s) / export_s if export_s else float("nan")
                    print(
                        f"{party.name:<22}{f'+{hours} h':>8}{gather_s:>10.3f}{layout_s:>10.3f}{size:>10.1f}"
                        f"{export_s:>10.3f}{ratio:>8.1f}"
                    )
        finally:
            rt.store.close()


if __name__ == "__main__":
    main()
