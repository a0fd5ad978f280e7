"""`make mutation`: mutation testing of the pure core with mutmut, and its table (docs/testing.md).

Runs ``mutmut run`` on the mutants named by ``SCOPE`` (every function of the domain modules listed in
pyproject.toml's ``[tool.mutmut] only_mutate``, and only the deciding functions of the service modules),
then prints per module: mutants, killed, survived, timed out, no tests, equivalent, and the score
``(killed + timed out) / (mutants - equivalent)``, followed by the diff of every survivor that counts.
The rows in ``FULL`` and the service rows run every mutant; every other domain row runs a fixed sample of
``SAMPLE`` mutants (docs/testing.md). ``--only ROW`` runs and reports one row.

Survivors that cannot change behaviour are listed in tests/mutation_equivalent.toml, each with the line
the mutant writes and the reason; an entry whose line no longer matches is reported as stale and does not
count. ``--report`` prints the table of the last run without running anything.

Every run prints its wall and CPU time and logs them (with the CPU mutmut's setup took) in
mutants/times.jsonl; ``--estimate`` prices a full run in CPU from them.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = ROOT / "tests" / "mutation_equivalent.toml"
TARGET = 0.90

DOMAIN = [
    line.split("/domain/")[1].removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    for line in tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["mutmut"]["only_mutate"]
    if "/domain/" in line
]
"""Every domain module pyproject.toml's ``only_mutate`` names (all of domain/, ``tactical.detect`` for
domain/tactical/detect.py, ``tactical`` for its ``__init__``)."""
SCOPE: dict[str, list[str]] = {
    # a module's own functions (x_name) and methods (xǁClassǁname): not those of a package's submodules
    **{f"domain.{m}": [f"deconfliction.domain.{m}.x_*", f"deconfliction.domain.{m}.xǁ*"] for m in DOMAIN},
    # need-to-know: every decision of what a party may see
    "service.views (need-to-know)": [
        f"deconfliction.service.views.x_{f}__mutmut_*"
        for f in (
            "may_see_unit_item",
            "may_see_unit",
            "may_see_operation",
            "may_read_entry",
            "may_read_unit_payload",
            "may_see_conflict",
            "zone_was_agreed",
            "may_see_zone",
            "may_see_line",
            "visible_operation",
            "visible_conflict",
            "unit_field",
        )
    ],
    # deadlines and escalation: each notification's first deadline, one chase per conflict version, the
    # steps taken when a deadline passes, what is overdue and for whom
    "service.notifications (deadline, escalation)": [
        f"deconfliction.service.notifications.x_{f}__mutmut_*"
        for f in ("notify_conflict", "ladder_length", "_pending_chase", "_reads_all", "overdue", "run_escalations")
    ],
    # the acknowledgement gate: who must have acknowledged what before an operation commits
    "service.acknowledgement (gate)": [
        f"deconfliction.service.acknowledgement.x_{f}__mutmut_*" for f in ("other_side", "acknowledged", "check")
    ],
}
"""Report rows: a name and the mutant name patterns it covers."""

FULL = {f"domain.{m}" for m in ("notification", "policy", "ledger", "volume", "acknowledgement", "minima")}
"""Rows run whole: the rules the issue named. Every other domain row runs a sample of its mutants."""
SAMPLE = 100
"""Mutants run per sampled row: the same ones every time (those whose name hashes lowest), all of them in a
module with fewer. Keeps a full run of ~35 modules within 30 minutes on 2 cores (docs/testing.md)."""

FAILED = {1, 3}
SURVIVED = {0}
TIMEOUT = {36, -24, 24, 152, 255}
NO_TESTS = {5, 33}


def rows(only: list[str] | None = None) -> dict[str, list[str]]:
    """The rows of SCOPE named by ``only`` (``domain.zone``, ``service.views``); all rows without it."""
    return {r: ps for r, ps in SCOPE.items() if not only or r.split(" ")[0] in only}


def _rank(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def row_names(row: str, codes: dict[str, int | None]) -> list[str]:
    """The mutants a row runs and counts: all of them, or for a sampled row its fixed sample."""
    names = sorted(n for n in codes if any(fnmatch.fnmatchcase(n, p) for p in SCOPE[row]))
    if row.startswith("domain.") and row not in FULL:
        names = sorted(sorted(names, key=_rank)[:SAMPLE])
    return names


def names_to_run(only: list[str] | None, *, open_only: bool) -> list[str]:
    """The mutants of the selected rows; with ``open_only`` those the last run did not kill, but for the
    survivors listed as equivalent (running them again only costs time)."""
    codes = results()
    names = [n for row in rows(only) for n in row_names(row, codes)]
    if not open_only:
        return sorted(names)
    exempt = {e["name"] for e in equivalents()}
    return sorted(
        n for n in names if codes[n] not in FAILED and codes[n] not in TIMEOUT and not (n in exempt and codes[n] == 0)
    )


def equivalents() -> list[dict[str, str]]:
    if not EQUIVALENT.exists():
        return []
    entries: list[dict[str, str]] = tomllib.loads(EQUIVALENT.read_text("utf-8")).get("mutant", [])
    return entries


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of every process it waited for: mutmut, its forks and
    the tests they ran, on every core."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


MARKER = "Running mutation testing"
"""What mutmut prints when its setup (writing mutants, listing tests, the clean run, stats) is over."""


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system, and of the children each has waited for) of a running process and all its
    descendants, from /proc (Linux); 0 where /proc cannot be read."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command: state ppid ... utime (12th) stime cutime cstime
        stats[int(proc.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]) / tick)
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += stats.get(p, (0, 0.0))[1]
        todo += [c for c, (ppid, _) in stats.items() if ppid == p]
    return total


def worst_case() -> Callable[[str], float]:
    """A mutant's worst case: the time of every selected test that calls its function, as mutmut measured
    them (``mutants/mutmut-stats.json``); what a survivor costs (a killed mutant stops at its first
    failing test)."""
    stats = json.loads((ROOT / "mutants" / "mutmut-stats.json").read_text())
    tests, seconds = stats["tests_by_mangled_function_name"], stats["duration_by_test"]

    def worst(name: str) -> float:
        return float(sum(seconds.get(t, 0.0) for t in tests.get(name.partition("__mutmut_")[0], ())))

    return worst


def run_mutmut(max_children: int, names: list[str], log_name: str = "run.log", what: str = "mutants") -> int:
    """Runs mutmut on ``names``; logs its wall and CPU time, and the CPU its setup took before the first
    mutant (read from /proc when the log shows MARKER), in mutants/times.jsonl."""
    cmd = [str(Path(sys.executable).parent / "mutmut"), "run", "--max-children", str(max_children), *names]
    log = ROOT / "mutants" / log_name
    log.parent.mkdir(exist_ok=True)
    print("running:", " ".join(cmd[:4]), f"<{len(names)} names>  (log: mutants/{log_name})", flush=True)
    before = durations() if (ROOT / "mutants" / "src").exists() else {}
    wall, cpu = time.monotonic(), cpu_seconds()
    setup: float | None = None
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            time.sleep(1.0)
            if setup is None and MARKER in log.read_text(errors="replace"):
                setup = tree_cpu_seconds(proc.pid)
        code = proc.returncode
    wall, cpu = time.monotonic() - wall, cpu_seconds() - cpu
    load = os.getloadavg()[0]
    print(f"  {len(names)} {what} in {wall:.0f} s wall, {cpu:.0f} s CPU on all cores (load average {load:.1f})")
    if setup is not None:
        print(f"  of which mutmut's setup {setup:.0f} s CPU, the mutants {cpu - setup:.0f} s CPU")
    entry = {"log": log_name, what: len(names), "wall_s": wall, "cpu_s": cpu, "setup_cpu_s": setup, "load": load}
    if what == "mutants":
        # the mutants this run tested: those whose record changed (all of them, unless it was interrupted)
        after, worst = durations(), worst_case()
        ran = [n for n in names if n in after and after[n] != before.get(n)]
        entry["ran"], entry["worst_s"] = len(ran), sum(worst(n) for n in ran)
    with (ROOT / "mutants" / "times.jsonl").open("a") as times:
        times.write(json.dumps(entry) + "\n")
    return code


def durations() -> dict[str, float]:
    """How long each mutant's tests took when it last ran (mutmut's own record)."""
    out: dict[str, float] = {}
    for meta in (ROOT / "mutants" / "src").rglob("*.py.meta"):
        out.update(json.loads(meta.read_text())["durations_by_key"])
    return out


def results() -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for meta in (ROOT / "mutants" / "src").rglob("*.py.meta"):
        out.update(json.loads(meta.read_text())["exit_code_by_key"])
    return out


def mutated_line(name: str, diff: str) -> str:
    added = [line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return added[0] if added else ""


def source_of(name: str) -> Path:
    """The source file of a mutant: its module's file, or its package's ``__init__.py``."""
    module = name.split(".x_")[0] if ".x_" in name else name.split(".xǁ")[0]
    path = Path("src", *module.split(".")).with_suffix(".py")
    return path if (ROOT / path).exists() else Path("src", *module.split("."), "__init__.py")


def diff_of(name: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    return get_diff_for_mutant(name, path=source_of(name))


def report(only: list[str] | None = None) -> bool:
    os.chdir(ROOT)
    exempt = {e["name"]: e for e in equivalents()}
    codes = results()
    table = []
    survivors: list[tuple[str, str]] = []
    stale: list[str] = []
    ok = True
    for row, pats in rows(only).items():
        names = row_names(row, codes)
        total = sum(1 for n in codes if any(fnmatch.fnmatchcase(n, p) for p in pats))
        count: dict[str, int] = defaultdict(int)
        for n in names:
            code = codes[n]
            if code in FAILED:
                count["killed"] += 1
            elif code in TIMEOUT:
                count["timeout"] += 1
            elif code in NO_TESTS:
                count["no tests"] += 1
            elif code is None:
                count["not run"] += 1
            else:
                diff = diff_of(n)
                e = exempt.get(n)
                if e is not None and e.get("line") == mutated_line(n, diff):
                    count["equivalent"] += 1
                    continue
                if e is not None:
                    stale.append(n)
                count["survived"] += 1
                survivors.append((n, diff))
        counted = len(names) - count["equivalent"]
        # a timed-out mutant was stopped by the tests taking too long: detected, as mutmut counts it
        # a module with no mutant (domain.limits: constants only; domain.party: one property) has nothing to score
        score = (count["killed"] + count["timeout"]) / counted if counted else (1.0 if not names else 0.0)
        ok &= score >= TARGET and not count["not run"]
        table.append((row, len(names), total, count, score))
    head = f"{'module':46} {'mutants':>7} {'of':>5} {'killed':>6} {'survived':>8} {'timeout':>7} {'no tests':>8} "
    head += f"{'equiv.':>6} {'score':>6}"
    print(head)
    print("-" * len(head))
    for row, run, total, c, score in table:
        print(
            f"{row:46} {run:7} {total:5} {c['killed']:6} {c['survived']:8} {c['timeout']:7} {c['no tests']:8} "
            f"{c['equivalent']:6} "
            + (f"{score:6.1%}" if run else f"{'-':>6}  (no mutant)")
            + ("" if score >= TARGET else "  < 90%")
        )
    if survivors:
        print(f"\n{len(survivors)} survivors (a test that fails on the change below is missing, or the mutant")
        print("is equivalent: then list it in tests/mutation_equivalent.toml with its line and the reason)")
        for n, diff in survivors:
            print(f"\n# {n}" + ("  (stale entry in mutation_equivalent.toml)" if n in stale else ""))
            print(diff)
    print("\n" + ("every module at 90% or more" if ok else "below 90% somewhere: see the survivors above"))
    return ok


def estimate() -> None:
    """What a full run from scratch costs in CPU, from what the runs so far cost (mutants/times.jsonl).

    Setup: the first run's setup (writing every mutant, recording which tests call which function, the
    clean run; its whole CPU when the setup was not logged apart) plus the largest setup of a later run
    (listing the tests, the clean run), for a full run starts mutmut twice. Mutants: the CPU the later
    runs spent after their setup, divided by the worst case of the mutants they ran, prices a second of
    worst case; every mutant of a full run is priced so. Runs without those figures (interrupted, or
    logged before them) are left out."""
    os.chdir(ROOT)
    times = [json.loads(line) for line in (ROOT / "mutants" / "times.jsonl").read_text().splitlines()]
    # the first run's setup; its whole CPU where the setup was not logged apart (an upper bound: it also ran
    # the 11 mutants of domain.minima, or the rows run whole)
    first = [t for t in times if t["log"] == "run-first.log"]
    later = [t for t in times if t["log"] != "run-first.log" and t.get("setup_cpu_s") is not None and t.get("ran")]
    if not first or not later:
        print("no run with its setup measured yet (mutants/times.jsonl)")
        return
    setup = (first[-1].get("setup_cpu_s") or first[-1]["cpu_s"]) + max(t["setup_cpu_s"] for t in later)
    spent = sum(t["cpu_s"] - t["setup_cpu_s"] for t in later)
    per_worst = spent / sum(t["worst_s"] for t in later)
    worst, codes = worst_case(), results()
    print(f"{'module':46} {'mutants':>7} {'worst s':>8} {'CPU s':>7}")
    total_n, total_cpu = 0, 0.0
    for row in SCOPE:
        names = row_names(row, codes)
        w = sum(worst(n) for n in names)
        total_n, total_cpu = total_n + len(names), total_cpu + w * per_worst
        print(f"{row:46} {len(names):7} {w:8.0f} {w * per_worst:7.0f}")
    full = setup + total_cpu
    ran = sum(t["ran"] for t in later)
    print(
        f"\nmeasured: setup {setup:.0f} s CPU (first run and a later one); {ran} mutants run in {spent:.0f} s CPU "
        f"after their setup ({per_worst:.3f} s CPU per second of worst case)"
    )
    print(f"a full run: {total_n} mutants, about {full:.0f} s CPU: {full / 2 / 60:.0f} minutes on 2 cores of its own")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", action="store_true", help="print the table of the last run only")
    ap.add_argument("--estimate", action="store_true", help="price a full run in CPU from the runs so far")
    ap.add_argument("--open", action="store_true", help="rerun only the mutants the last run did not kill")
    ap.add_argument("--max-children", type=int, default=2)
    ap.add_argument("--only", action="append", metavar="ROW", help="only this row (repeatable): domain.zone")
    args = ap.parse_args()
    wall, cpu = time.monotonic(), cpu_seconds()
    if args.estimate:
        estimate()
        sys.exit(0)
    if not args.report:
        if not results():
            # the first run: mutmut writes every mutant (so the samples can be named) while it runs the rows
            # that are run whole (or, when none is selected, the 11 mutants of domain.minima)
            whole = [r for r in rows(args.only) if r in FULL or not r.startswith("domain.")]
            first = [p for r in whole or ["domain.minima"] for p in SCOPE[r]]
            code = run_mutmut(args.max_children, first, "run-first.log", "patterns")
            if code != 0:
                print(f"mutmut exited {code}; see mutants/run-first.log", file=sys.stderr)
                sys.exit(code)
            codes = results()
            names = [n for n in names_to_run(args.only, open_only=False) if codes[n] is None]
        else:
            names = names_to_run(args.only, open_only=args.open)
        if not names:
            print("nothing open")
            sys.exit(0 if report(args.only) else 1)
        code = run_mutmut(args.max_children, names)
        if code != 0:
            print(f"mutmut exited {code}; see mutants/run.log", file=sys.stderr)
            sys.exit(code)
    ok = report(args.only)
    if not args.report:
        wall, cpu = time.monotonic() - wall, cpu_seconds() - cpu
        print(f"this run: {wall:.0f} s wall, {cpu:.0f} s CPU on all cores ({cpu / 2:.0f} s on 2 cores of its own)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
