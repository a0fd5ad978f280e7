"""``deconflict``: the operator's command line. Commands call the service layer, never HTTP internals."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from deconfliction.domain.party import Role
from deconfliction.domain.volume import format_time
from deconfliction.errors import DeconflictionError, InvalidInput
from deconfliction.settings import Settings

app = typer.Typer(
    help="Deconfliction service: declare, detect, notify, record.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
party_app = typer.Typer(help="Parties and their API keys.", no_args_is_help=True)
app.add_typer(party_app, name="party")
ledger_app = typer.Typer(help="The hash-chained record: export it, verify an export offline.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
incident_app = typer.Typer(help="Incidents: the inquiry report.", no_args_is_help=True)
app.add_typer(incident_app, name="incident")

out = Console()
err = Console(stderr=True)


def span(start: datetime, end: datetime) -> str:
    """A window as a person reads it in a narrow table, in UTC and whole minutes taken outwards (the start
    floored, the end ceiled): ``2026-12-06 16:00-18:00`` within one day, ``2026-12-06 22:00-12-07 02:00``
    across days."""
    start = start.astimezone(UTC).replace(second=0, microsecond=0)
    end_utc = end.astimezone(UTC)
    end = end_utc.replace(second=0, microsecond=0)
    if end < end_utc:
        end += timedelta(minutes=1)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}"
    if end - start <= timedelta(days=1) and end.time() == datetime.min.time():
        return f"{start:%Y-%m-%d %H:%M}-24:00"
    return f"{start:%Y-%m-%d %H:%M}-{end:%m-%d %H:%M}"


def listing(*columns: str) -> Table:
    """A listing that fits 80 columns: the first column is each row's name with its id whole on the line
    below (a person copies it: never cut, never wrapped: ``named``); the others wrap between words."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("name / id", no_wrap=True, min_width=29)
    for col in columns:
        short = col in ("v", "state", "role", "category")
        table.add_column(col, no_wrap=short, min_width=10 if col.startswith("valid") else None)
    return table


def named(name: str, object_id: str) -> str:
    """The first cell of a ``listing`` row: the name (cut to the id's width if longer), the id below."""
    shown = name if len(name) <= len(object_id) else name[: len(object_id) - 1] + "…"
    return f"{escape(shown)}\n[dim]{object_id}[/]"


def _party_names(rt: Any) -> dict[str, str]:
    with rt.store.read() as tx:
        return {p.id: p.name for p in tx.parties.list(limit=1_000_000)}


def _runtime(settings: Settings) -> Any:
    from deconfliction.service.exercise import DeploymentMismatch, open_deployment
    from deconfliction.store import open_store
    from deconfliction.store.sql import MigrationError

    try:
        store = open_store(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    except MigrationError as exc:  # the schema and this version disagree: nothing was changed (docs/storage.md)
        err.print("[bold red]error[/] the database was not opened:", escape(str(exc)))
        raise typer.Exit(2) from None
    try:  # an exercise database only with the exercise's settings, and the other way round
        scenario = open_deployment(store, settings.exercise_start, settings.exercise_speed)
    except DeploymentMismatch as exc:
        store.close()
        err.print(f"[bold red]error[/] {exc}")
        raise typer.Exit(2) from None
    return settings.runtime(store, scenario)


def _settings() -> Settings:
    """The settings from the environment; a bad value stops the command with its variable named."""
    try:
        return Settings.from_env()
    except ValueError as exc:
        err.print(f"[bold red]error[/] {exc}")
        raise typer.Exit(2) from None


def _party_named(rt: Any, name: str | None) -> Any:
    """The party of that name (None for None: the console operator, who reads everything)."""
    from deconfliction.errors import NotFound

    if name is None:
        return None
    with rt.store.read() as tx:
        found = tx.parties.by_name(name)
    if found is None:
        raise NotFound(f"no party named {name!r}", name=name)
    return found


def _fail(exc: DeconflictionError, code: int = 2) -> None:
    err.print(f"[bold red]error[/] {exc.code}: {exc.message}")
    if isinstance(exc, InvalidInput):
        for e in exc.errors:
            err.print(f"  {e.field or '(body)'}: {e.message} [dim]({e.code})[/]")
    raise typer.Exit(code)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default DECONFLICTION_HOST or 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default DECONFLICTION_PORT or 8000)")] = None,
    workers: Annotated[
        int, typer.Option(help="Server processes; they share the database (SQLite writes take turns)")
    ] = 1,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from deconfliction.api.tls import HardenedHttpTools, check_tls
    from deconfliction.api.workers import run_workers, spread_by_kernel
    from deconfliction.domain.volume import format_time
    from deconfliction.logs import logging_config

    settings = _settings()
    try:
        tls = check_tls(settings)  # a bad certificate or key stops the start, named (docs/security.md)
    except ValueError as exc:
        err.print(f"[bold red]error[/] {exc}")
        raise typer.Exit(2) from None
    rt = _runtime(settings)  # marks a new database, refuses one of the other kind (docs/exercise.md)
    rt.store.close()
    if settings.exercise_start is not None:
        clock = rt.clock
        out.print(
            f"[bold yellow]EXERCISE[/]: scenario clock started at {format_time(clock.anchor.scenario_start)}, "
            f"speed {settings.exercise_speed:g}, now {format_time(clock())}. Every answer carries "
            "'Deconfliction-Exercise: 1' and every ledger entry is marked exercise.",
            highlight=False,
        )
    scheme = "https" if tls else "http"
    out.print(
        f"Serving the web map on [bold]{scheme}://{host or settings.host}:{port or settings.port}/[/], "
        f"the API on /v1 (docs: /v1/docs) "
        f"({settings.database_url.split('@')[-1]})"
    )
    if workers > 1 and (settings.sbs_feeds or settings.cot_udp or settings.cot_tcp):
        # tracks and alerts are shared through the database, but every process opens the feeds it is given
        out.print(
            f"[yellow]Note:[/] the {workers} processes share one tactical picture, but each opens the feeds "
            "(DECONFLICTION_SBS_FEEDS, DECONFLICTION_COT_UDP, DECONFLICTION_COT_TCP): give them to one process "
            "(docs/tactical.md, Several processes). /metrics answers from whichever process takes the "
            "connection: to scrape every process, run one server per port instead (docs/operations.md)."
        )
    options: dict[str, Any] = {
        "app": "deconfliction.api.app:create_app",
        "factory": True,
        # structured logs in every worker (docs/operations.md); the access log is the service's own
        "log_config": logging_config(settings.log_format, settings.log_level),
        "log_level": settings.log_level.lower(),
        "access_log": False,
        "http": HardenedHttpTools,  # header and body deadlines; the client certificate handed on (api/tls.py)
        **tls,
    }
    host, port = host or settings.host, port or settings.port
    if spread_by_kernel(workers):  # a socket per process: the kernel spreads the connections (api/workers.py)
        try:
            status = run_workers(options, host, port, workers)
        except OSError as exc:
            err.print(f"[bold red]error[/] cannot listen on {host}:{port}: {exc.strerror or exc}")
            raise typer.Exit(1) from None
        if status:
            raise typer.Exit(status)
        return
    uvicorn.run(host=host, port=port, workers=workers, **options)


@app.command()
def demo(
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the server afterwards")] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="Where the demo lives (default: DECONFLICTION_DATABASE_URL's database, where every command "
            "reads); a SQLite file holding only an earlier demo is made anew, one holding other data is refused"
        ),
    ] = None,
) -> None:
    """Load the demo scenario into a fresh database, print its keys and conflicts, and optionally serve."""
    import os

    from deconfliction.service.demo import load_demo

    database_url = database_url or Settings.from_env().database_url
    try:
        _make_room_for_demo(database_url)
    except DeconflictionError as exc:
        _fail(exc)
    settings = Settings.from_env({**os.environ, "DECONFLICTION_DATABASE_URL": database_url})
    rt = _runtime(settings)
    try:
        loaded = load_demo(rt)
    finally:
        rt.store.close()
    url = f"http://{settings.host}:{settings.port}"
    out.print("[bold]Demo parties[/] (API keys are shown once):")
    for p, key in loaded.parties:
        out.print(f"  {p.name:<18} {p.role.value:<12} ", end="")
        out.print(key, soft_wrap=True, highlight=False)
    for label, key in loaded.unit_keys:  # a unit's key: that unit's inbox
        out.print(f"  {label:<31} ", end="")
        out.print(key, soft_wrap=True, highlight=False)
    titles = loaded.labels  # operations, zones, sites and the line's band
    table = Table(title=f"Conflicts found: {len(loaded.conflicts)}")
    for col in ("between", "and", "rule", "min separation", "window (UTC)"):
        table.add_column(col, no_wrap=col == "rule")
    for c in loaded.conflicts:
        table.add_row(
            titles[c.operation_a],
            titles[c.operation_b],
            c.rule.name,
            f"{c.min_horizontal_m:,.0f} m / {c.min_vertical_m:,.0f} m",
            f"{format_time(c.window.start)} - {format_time(c.window.end)}",
        )
    out.print(table)
    entries = Table(title=f"Undeclared entries of an unknown column: {len(loaded.undeclared)}")
    for col in ("track", "affiliation", "enters", "owner", "in"):
        entries.add_column(col)
    names = {p.id: p.name for p, _ in loaded.parties}
    for a in sorted(loaded.undeclared, key=lambda a: (a.subjects[0][1], a.prediction.loss_at)):
        pred = a.prediction
        seconds = max(0.0, (pred.loss_at - a.created_at).total_seconds())
        entries.add_row(
            a.subjects[0][1],
            pred.affiliation.value,
            f"{pred.target} {titles.get(a.subjects[1][1], a.subjects[1][1])}",
            names.get(a.subjects[1][0], a.subjects[1][0]),
            "inside now" if pred.now else f"{seconds:.0f} s",
        )
    out.print(entries)
    for line in loaded.story:
        out.print(f"* {line}", highlight=False)
    out.print(f"Web map: [bold]{url}/[/] (sign in with a key above)")
    out.print(f"API: [bold]{url}/v1[/]   OpenAPI: {url}/v1/openapi.json   Docs: {url}/v1/docs")
    out.print(
        f"Try: curl -H 'Authorization: Bearer {loaded.parties[1][1]}' {url}/v1/conflicts",
        soft_wrap=True,
        highlight=False,
    )
    if serve_after:
        os.environ["DECONFLICTION_DATABASE_URL"] = database_url
        serve(None, None, 1)


def _make_room_for_demo(database_url: str) -> None:
    """Remove an earlier demo's SQLite file; refuse, naming the way out, a database that holds anything
    but the demo's parties (a deployment's data is never erased by `deconflict demo`)."""
    from deconfliction.service.demo import PARTIES
    from deconfliction.store import open_store

    path = Path(database_url.removeprefix("sqlite:///")) if database_url.startswith("sqlite:///") else None
    if path is not None and not path.exists():
        return
    store = open_store(database_url)
    try:
        with store.read() as tx:
            names = {p.name for p in tx.parties.list(limit=1_000_000)}
    finally:
        store.close()
    others = sorted(names - {name for name, _ in PARTIES})
    if (path is None and names) or others:
        held = f"parties {', '.join(others)}" if others else "an earlier demo"
        raise InvalidInput.one(
            "--database-url",
            "database_in_use",
            f"{database_url.split('@')[-1]} holds {held}; the demo needs a database of its own: "
            "pass --database-url sqlite:///var/demo.db (and set DECONFLICTION_DATABASE_URL to it for the CLI)",
        )
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@party_app.command("list")
def party_list(as_json: Annotated[bool, typer.Option("--json", help="Parties as JSON")] = False) -> None:
    """Every party, with its role and id."""
    rt = _runtime(Settings.from_env())
    try:
        with rt.store.read() as tx:
            found = tx.parties.list(limit=1_000_000)
    finally:
        rt.store.close()
    records = [{"id": p.id, "name": p.name, "role": p.role.value} for p in found]
    if as_json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return
    table = listing("role")
    for r in records:
        table.add_row(named(r["name"], r["id"]), r["role"])
    out.print(table)


@party_app.command("add")
def party_add(
    name: str,
    role: Annotated[Role, typer.Option(help="party, coordinator, observer or auditor")] = Role.PARTY,
) -> None:
    """Create a party in the configured database and print its API key (once)."""
    from deconfliction.service.parties import create_party

    rt = _runtime(Settings.from_env())
    try:
        party, key = create_party(rt, None, name, role)
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    out.print(f"Created {party.role.value} [bold]{party.name}[/] ({party.id})")
    out.print(f"API key (shown once, store it now): [bold]{key}[/]")


@party_app.command("keys")
def party_keys(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="Keys as JSON, as GET /v1/api-keys lists them")] = False,
) -> None:
    """List a party's API keys (never their secrets): label, expiry, revocation."""
    from deconfliction.service.api_keys import key_view, list_api_keys
    from deconfliction.service.exercise import real_now

    rt = _runtime(_settings())
    try:
        keys = list_api_keys(rt, None, _party_named(rt, name).id)
        views = [key_view(k, real_now(rt)) for k in keys]
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    if as_json:
        print(json.dumps([v.model_dump() for v in views], indent=2, ensure_ascii=False))
        return
    table = listing("created", "expires", "revoked", "active")
    for v in views:
        table.add_row(
            named(v.label, v.id),
            v.created_at[:16],
            (v.expires_at or "-")[:16],
            (v.revoked_at or "-")[:16],
            "yes" if v.active else "no",
        )
    out.print(table)


@party_app.command("key-add")
def party_key_add(
    name: str,
    label: Annotated[str, typer.Option(help="What will use the key, e.g. 'north-c2 gateway'")] = "console",
    expires: Annotated[str | None, typer.Option(help="RFC 3339 time after which the key is refused")] = None,
) -> None:
    """Make another API key for a party (a party that revoked its last one, a key per system) and print
    it once. A ledger entry party.api_key_created."""
    from deconfliction.domain.volume import parse_time
    from deconfliction.service.api_keys import create_api_key

    rt = _runtime(_settings())
    try:
        when = None if expires is None else parse_time(expires, "expires")
        key, secret, _ = create_api_key(rt, None, label, when, _party_named(rt, name).id)
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    out.print(f"Made API key {key.id} ({key.label}) for [bold]{name}[/]")
    out.print(f"API key (shown once, store it now): [bold]{secret}[/]")


@party_app.command("key-revoke")
def party_key_revoke(key_id: str) -> None:
    """Revoke an API key: every server process refuses it from the next request on."""
    from deconfliction.service.api_keys import revoke_api_key

    rt = _runtime(_settings())
    try:
        key, _ = revoke_api_key(rt, None, key_id)
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    out.print(f"Revoked API key {key.id} ({key.label}) of {key.party_id}")


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="A FeatureCollection as `export` writes it (docs/formats.md)")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable report")] = False,
) -> None:
    """Offline conflict report for a file (operations, movements, zones, sites: what `export` writes):
    no server, no database. Exit status: 0 no conflict, 1 conflicts found, 2 invalid input."""
    from deconfliction.domain.geojson import to_geojson
    from deconfliction.service.offline import check_collection

    settings = Settings.from_env()
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[bold red]error[/] cannot read {file}: {exc}")
        raise typer.Exit(2) from None
    except json.JSONDecodeError as exc:
        err.print(f"[bold red]error[/] {file} is not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}")
        raise typer.Exit(2) from None
    try:
        report = check_collection(raw, settings.policy(), settings.limits)
    except DeconflictionError as exc:
        _fail(exc)
    targets = {f"zone:{i}": f"zone {z.name or i}" for i, z in enumerate(report.zones)}
    targets |= {f"site:{i}": f"site {s.name or i}" for i, s in enumerate(report.sites)}
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "operations": len(report.operations),
                    "zones": len(report.zones),
                    "sites": len(report.sites),
                    "conflicts": [
                        {
                            "operation_a": f.operation_a,
                            "party_a": f.owner_a,
                            "operation_b": f.operation_b,
                            "party_b": f.owner_b,
                            "rule": f.rule.as_dict(),
                            "min_horizontal_m": round(min(e.horizontal_m for e in f.encounters), 1),
                            "min_vertical_m": round(min(e.vertical_m for e in f.encounters), 1),
                            "encounters": [
                                {
                                    "volume_a": e.index_a,
                                    "volume_b": e.index_b,
                                    "horizontal_m": round(e.horizontal_m, 1),
                                    "vertical_m": round(e.vertical_m, 1),
                                    "time_s": e.time_s,
                                    "window": {
                                        "start": format_time(e.window.start),
                                        "end": format_time(e.window.end),
                                    },
                                    "region": to_geojson(e.region),
                                }
                                for e in f.encounters
                            ],
                        }
                        for f in report.findings
                    ],
                    "area_conflicts": [
                        {
                            "kind": a.kind.value,
                            "operation": a.operation_id,
                            "party": a.operator_id,
                            "target": targets[a.target_id],
                            "target_party": a.target_owner_id,
                            "rule": a.rule.as_dict(),
                            "min_horizontal_m": round(a.min_horizontal_m, 1),
                            "window": {"start": format_time(a.window.start), "end": format_time(a.window.end)},
                            "region": to_geojson(a.region),
                        }
                        for a in report.areas
                    ],
                },
                indent=2,
            )
            + "\n"
        )
    else:
        found = len(report.findings) + len(report.areas)
        counts = f"{len(report.operations)} operation(s), {len(report.zones)} zone(s), {len(report.sites)} site(s)"
        titles = {d.name: d.title or d.name for d in report.operations}
        table = Table(title=f"{found} conflict(s) among {counts}", box=box.SIMPLE_HEAD)
        for col in ("operation", "conflicts with", "rule", "closest", "when (UTC)"):
            table.add_column(col, no_wrap=col == "rule", min_width=11 if col == "when (UTC)" else None)
        for f in report.findings:
            first = min(e.window.start for e in f.encounters)
            last = max(e.window.end for e in f.encounters)
            table.add_row(
                f"{titles[f.operation_a]} ({f.owner_a})",
                f"{titles[f.operation_b]} ({f.owner_b})",
                f.rule.name,
                f"{min(e.horizontal_m for e in f.encounters):,.0f} m"
                f" / {min(e.vertical_m for e in f.encounters):,.0f} m",
                span(first, last),
            )
        for a in report.areas:
            table.add_row(
                f"{titles[a.operation_id]} ({a.operator_id})",
                f"{targets[a.target_id]} ({a.target_owner_id})",
                a.rule.name,
                f"{a.min_horizontal_m:,.0f} m",
                span(a.window.start, a.window.end),
            )
        out.print(table)
    raise typer.Exit(1 if report.findings or report.areas else 0)


@ledger_app.command("export")
def ledger_export(
    output: Annotated[Path, typer.Option("--out", "-o", help="JSON Lines file to write ('-' for stdout)")] = Path("-"),
    party: Annotated[
        str | None, typer.Option(help="Export as this party sees it: others' entries redacted to their hashes")
    ] = None,
    after: Annotated[int, typer.Option(help="Start after this entry number")] = 0,
) -> None:
    """Write the ledger (or one party's view of it) as JSON Lines, verifiable with `ledger verify`."""
    from deconfliction.domain.ledger import export_line
    from deconfliction.service.ledger import export_ledger

    rt = _runtime(Settings.from_env())
    count = 0
    try:
        viewer = _party_named(rt, party)
        sink = sys.stdout.buffer if str(output) == "-" else output.open("wb")
        try:
            for line in export_ledger(rt, viewer, after=after):
                sink.write(export_line(line))
                count += 1
        finally:
            if sink is not sys.stdout.buffer:
                sink.close()
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    if str(output) != "-":
        err.print(f"wrote {count - 1} entries to {output}")


@ledger_app.command("verify")
def ledger_verify(
    file: Annotated[Path, typer.Argument(help="A JSON Lines export written by `ledger export` or GET /v1/ledger")],
    receipt: Annotated[
        list[str] | None,
        typer.Option(help="A receipt to prove, as the JSON a write returned (at least seq and hash); repeatable"),
    ] = None,
) -> None:
    """Check an export with no server and no database: every content hash, every link of the chain,
    nothing missing or reordered, every party signature, and each receipt (in the chain, and signed by
    a service key the ledger announced). Exit status 0 valid, 1 not."""
    from deconfliction.domain.ledger import verify

    receipts = []
    for text in receipt or []:
        try:
            receipts.append(json.loads(text))
        except json.JSONDecodeError as exc:
            _fail(InvalidInput.one("--receipt", "invalid_json", f"not JSON: {exc}"))
    try:
        with file.open("rb") as fh:
            report = verify(fh, receipts=receipts)
    except OSError as exc:
        err.print(f"[bold red]error[/] cannot read {file}: {exc.strerror}")
        raise typer.Exit(2) from None
    for problem in report.problems:
        out.print(f"[bold red]INVALID[/] {problem}")
    for note in report.unchecked:
        out.print(f"[yellow]unchecked[/] {note}")
    if report.exercise:
        out.print(f"[bold yellow]EXERCISE[/]: {report.exercise} entries are marked exercise, not live data")
    if report.ok:
        out.print(
            f"[bold green]valid[/]: {report.entries} entries ({report.redacted} redacted), "
            f"{report.first_seq or '-'} to {report.last_seq or '-'}, head {report.head_hash or '-'}; "
            f"{report.signatures_checked} party signature(s) checked"
            + (
                f"; {len(receipts)} receipt(s) found in the chain, {report.receipts_signed} with the service's "
                "signature checked"
                if receipts
                else ""
            )
        )
    raise typer.Exit(0 if report.ok else 1)


@incident_app.command("report")
def incident_report(
    incident_id: Annotated[str, typer.Argument(help="The incident's id (in_...)")],
    output: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write ('-' for stdout)")] = Path("-"),
    party: Annotated[str | None, typer.Option(help="Draw it as this party may see it")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The inquiry as JSON instead of HTML")] = False,
) -> None:
    """Write the inquiry of an incident (what was near it, who was told what, when) as one
    self-contained HTML page, for people without access to the service."""
    from deconfliction.report import incident_html
    from deconfliction.service.incidents import inquire, inquiry_json

    rt = _runtime(Settings.from_env())
    try:
        viewer = _party_named(rt, party)
        q = inquire(rt, viewer, incident_id)
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    text = json.dumps(inquiry_json(q), indent=2) + "\n" if as_json else incident_html(q)
    if str(output) == "-":
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(
            f"wrote {output}: {len(q.operations)} operation(s), {len(q.conflicts)} conflict(s), "
            f"{len(q.timeline)} ledger entries"
        )


@app.command()
def replay(
    party: Annotated[
        str | None, typer.Option(help="Whose view (a party's name); without it, the coordinator's view of all")
    ] = None,
    at: Annotated[str | None, typer.Option(help="RFC 3339 time, e.g. 2026-11-23T08:00:00Z; without it, now")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the views as JSON")] = False,
) -> None:
    """What a party could see at a given time (its operations and its side of its conflicts), rebuilt
    from the ledger alone."""
    from deconfliction.domain.volume import parse_time
    from deconfliction.service.replay import replay as replay_views

    rt = _runtime(Settings.from_env())
    try:
        when = parse_time(at, "--at") if at is not None else None
        viewer = _party_named(rt, party)
        r = replay_views(rt, viewer, when)
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    if as_json:
        body = {
            "party": party,
            "at": at,
            "last_seq": r.last_seq,
            "exercise": r.exercise,
            "operations": r.operation_list(),
            "conflicts": r.conflict_list(),
        }
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
        return
    who = party or "the coordinator"
    if r.exercise:
        out.print("[bold yellow]EXERCISE[/]: this ledger is an exercise's, its times are scenario times")
    out.print(f"As {who} saw it at {at or 'now'} (ledger entries up to {r.last_seq}):")
    ops_table = Table("operation", "title", "kind", "state", "version", title=f"Operations: {len(r.operations)}")
    for o in r.operation_list():
        ops_table.add_row(o["id"], o["title"], o["kind"], o["state"], str(o["version"]))
    out.print(ops_table)
    table = Table("conflict", "state", "with", "rule", "window (UTC)", title=f"Conflicts: {len(r.conflicts)}")
    for c in r.conflict_list():
        others = [s["party_name"] for s in c["sides"]] if "sides" in c else [c["counterpart"]["party_name"]]
        table.add_row(
            c["id"],
            c["state"],
            " / ".join(map(str, others)),
            c["rule"]["name"],
            f"{c['window']['start']} - {c['window']['end']}",
        )
    out.print(table)


@app.command()
def packet(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The PDF to write ('-' for stdout)")],
    party: Annotated[str | None, typer.Option(help="Whose packet (a party's name), read locally")] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(help="Whose packet: the party (or unit) of the API key in this file ('-': read from stdin)"),
    ] = None,
    at: Annotated[str | None, typer.Option(help="RFC 3339 time of the situation; without it, now")] = None,
    paper: Annotated[str, typer.Option(help="a4 or letter")] = "a4",
) -> None:
    """The situation packet of a party as a PDF to print (docs/packet.md): the map, its open conflicts,
    the contacts to call and the ledger head, exactly as GET /v1/packet gives it to that party."""
    from deconfliction.domain.volume import parse_time
    from deconfliction.service.packet import situation_packet
    from deconfliction.service.parties import authenticate

    if (party is None) == (key_file is None):
        _fail(InvalidInput.one("--party", "invalid_value", "give one of --party NAME and --key-file FILE"))
    key = None
    if key_file is not None:  # never on the command line, where other users of the machine would see it
        try:
            key = (sys.stdin.read() if str(key_file) == "-" else key_file.read_text(encoding="utf-8")).strip()
        except OSError as exc:
            _fail(InvalidInput.one("--key-file", "invalid_value", f"cannot read {key_file}: {exc.strerror}"))
    if paper not in ("a4", "letter"):
        _fail(InvalidInput.one("--paper", "invalid_value", f"{paper!r}: a4 or letter"))
    rt = _runtime(_settings())
    try:
        when = parse_time(at, "--at") if at is not None else None
        viewer = _party_named(rt, party) if party is not None else authenticate(rt, key)
        pdf = situation_packet(rt, viewer, when, paper)
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    if str(out_file) == "-":
        sys.stdout.buffer.write(pdf)
        return
    out_file.write_bytes(pdf)
    err.print(f"wrote {out_file} ({len(pdf):,} bytes) for {viewer.name}")


site_app = typer.Typer(help="Protected sites: list them, and those due for revalidation.", no_args_is_help=True)
app.add_typer(site_app, name="site")
zone_app = typer.Typer(help="Zones of responsibility: list them.", no_args_is_help=True)
app.add_typer(zone_app, name="zone")


@app.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(help="A CSV of protected sites, a GeoJSON FeatureCollection or a KML document")
    ],
    party: Annotated[str, typer.Option(help="The importing party's name: the owner of what is imported")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Run the import and roll it back: its report, nothing stored")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON")] = False,
) -> None:
    """Import a CSV of sites (a report for every row; exit 1 when a row is refused) or a GeoJSON
    FeatureCollection of operations, movements, zones and sites (.geojson, .json), or the same as KML
    (.kml, or any other file that starts with "<"; exit 2 listing every bad feature), all or nothing."""
    from deconfliction.service.transfer import SitesImportResult, import_sites_csv

    suffix = file.suffix.lower()
    kml = suffix == ".kml" or (
        suffix not in (".csv", ".geojson", ".json")
        and file.is_file()
        and file.read_bytes()[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
    )
    geojson = kml or suffix in (".geojson", ".json")
    if geojson:
        _import_geojson(file, party, dry_run, as_json, kml=kml)
        return
    rt = _runtime(Settings.from_env())
    try:
        result = import_sites_csv(rt, _party_named(rt, party), file.read_bytes(), dry_run=dry_run)
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    assert isinstance(result, SitesImportResult)  # without an Idempotency-Key nothing is replayed
    report = result.as_dict()
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for row in report["accepted"]:
            lon, lat = row["position"]
            where = f"{lat:.5f}, {lon:.5f}"
            made = f" -> {row['site']}" if "site" in row else ""
            out.print(f"row {row['row']}: [green]accepted[/] {row['name']} ({row['category']}) at {where}{made}")
            for w in row["warnings"] + [
                {"field": "", "message": f"likely duplicate of {d['site']} at {d['distance_m']} m"}
                for d in row.get("likely_duplicates", ())
            ]:
                out.print(f"  [yellow]warning[/] {w['field']}: {w['message']}")
        for row in report["refused"]:
            out.print(f"row {row['row']}: [red]refused[/]")
            for e in row["errors"]:
                out.print(f"  {e['field']}: {e['message']} [dim]({e['code']})[/]")
        for e in report["file_errors"]:
            out.print(f"[red]file refused[/] {e['field'] or '(file)'}: {e['message']} [dim]({e['code']})[/]")
        verdict = "stored" if report["stored"] else "dry run: nothing stored" if dry_run else "nothing stored"
        out.print(f"{len(report['accepted'])} accepted, {len(report['refused'])} refused; {verdict}")
    if not report["ok"]:
        raise typer.Exit(1)


def _import_geojson(file: Path, party: str, dry_run: bool, as_json: bool, *, kml: bool = False) -> None:
    from deconfliction.formats.kml import read_kml
    from deconfliction.service.transfer import GeoJsonImport, import_geojson

    rt = _runtime(Settings.from_env())
    try:
        try:
            obj = read_kml(file.read_bytes()) if kml else json.loads(file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InvalidInput.one("", "invalid_json", f"{file} is not JSON: {e}") from None
        result = import_geojson(rt, _party_named(rt, party), obj, dry_run=dry_run)
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    assert isinstance(result, GeoJsonImport)  # without an Idempotency-Key nothing is replayed
    if as_json:
        report = result.as_dict() | {"conflicts": len(result.changed)}
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    read = ", ".join(f"{n} {kind}(s)" for kind, n in result.counts.items() if n)
    if not read:
        out.print("nothing new: nothing stored")
    else:
        out.print(f"{read}: {'dry run, nothing stored' if dry_run else 'stored'}")
    for kind, ids in result.stored.items():
        for i in ids:
            out.print(f"  {kind} {i}" + (" (not kept: dry run)" if dry_run else ""))
    if result.changed:
        out.print(f"{len(result.changed)} conflict(s) {'would be' if dry_run else 'were'} opened or changed")
    for note in result.skipped:
        out.print(f"  [dim]skipped[/] {note.field}: {note.message}", soft_wrap=True)


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="geojson or kml")] = "geojson",
    party: Annotated[str | None, typer.Option(help="As this party may see it; without it, everything")] = None,
    output: Annotated[Path, typer.Option("--out", "-o", help="File to write ('-' for stdout)")] = Path("-"),
) -> None:
    """Write operations, movements, zones and sites as GeoJSON (re-importable) or KML (Google Earth)."""
    from deconfliction.service.transfer import export_geojson, export_kml

    if fmt not in ("geojson", "kml"):
        _fail(InvalidInput.one("--format", "invalid_value", "--format is geojson or kml"))
    rt = _runtime(Settings.from_env())
    try:
        viewer = _party_named(rt, party)
        text = export_kml(rt, viewer) if fmt == "kml" else json.dumps(export_geojson(rt, viewer), indent=1)
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    if str(output) == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")


@site_app.command("list")
def site_list(
    due: Annotated[bool, typer.Option("--due", help="Only active sites past valid_until (to revalidate)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Sites as JSON")] = False,
) -> None:
    """Every protected site (sites are public within the cell)."""
    from deconfliction.service.sites import list_sites, site_record

    rt = _runtime(Settings.from_env())
    try:
        found = list_sites(rt, None, due=due, limit=1_000_000)
        records = [site_record(s, rt.clock()) for s in found]
        names = _party_names(rt)
    finally:
        rt.store.close()
    if as_json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return
    table = listing("category", "owner", "valid until", "state")
    for r in records:
        state = r["state"] + (" (revalidate)" if r["needs_revalidation"] else "")
        owner = names.get(r["owner"], r["owner"])
        table.add_row(named(r["name"], r["id"]), r["category"], owner, r["valid_until"][:10], state)
    out.print(table)


@zone_app.command("list")
def zone_list(
    party: Annotated[str | None, typer.Option(help="As this party may see them; without it, all")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Zone versions as JSON")] = False,
) -> None:
    """Every zone version (or those a party may see): agreed ones are public, proposals are not."""
    from deconfliction.service.zones import list_zones, zone_record

    rt = _runtime(Settings.from_env())
    try:
        records = [zone_record(z) for z in list_zones(rt, _party_named(rt, party), limit=1_000_000)]
        names = _party_names(rt)
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    if as_json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return
    table = listing("v", "owner", "with", "state", "valid (UTC)")
    for r in records:
        valid = f"{r['validity']['start'][:10]} to {r['validity']['end'][:10]}"
        others = ", ".join(names.get(p, p) for p in r["counterparties"])
        owner = names.get(r["owner"], r["owner"])
        table.add_row(named(r["name"], r["id"]), str(r["version"]), owner, others, r["state"], valid)
    out.print(table)


unit_app = typer.Typer(
    help="Units of a party (a squadron, a convoy team): add, list, issue keys.", no_args_is_help=True
)
app.add_typer(unit_app, name="unit")


@unit_app.command("add")
def unit_add(
    party: Annotated[str, typer.Argument(help="The party's name or id")],
    name: Annotated[str, typer.Argument(help="The unit's name, unique within the party")],
) -> None:
    """Create a unit of a party (its ladder: PUT /v1/units/{id}/contacts, or the web map)."""
    from deconfliction.service.units import create_unit

    rt = _runtime(Settings.from_env())
    try:
        unit, _ = create_unit(rt, None, name, party=party)
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    out.print(f"Created unit [bold]{unit.name}[/] ({unit.id}) of {party}")


@unit_app.command("list")
def unit_list(
    party: Annotated[str, typer.Argument(help="The party's name or id")],
    as_json: Annotated[bool, typer.Option("--json", help="Units as JSON")] = False,
) -> None:
    """A party's units, with their ladders."""
    from deconfliction.service.units import list_units

    rt = _runtime(Settings.from_env())
    try:
        records = [u.record() for u in list_units(rt, None, party=party, limit=1_000_000)]
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    if as_json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return
    table = listing("ladder (primary first)", "area")
    for r in records:
        ladder = ", ".join(c["name"] for c in r["contacts"]) or "(the party's)"
        table.add_row(named(r["name"], r["id"]), ladder, r["area"]["type"] if r["area"] else "")
    out.print(table)


@unit_app.command("key")
def unit_key(
    party: Annotated[str, typer.Argument(help="The party's name or id")],
    unit: Annotated[str, typer.Argument(help="The unit's name or id")],
) -> None:
    """Issue an API key scoped to the unit and print it (once): it acts as the party for that unit."""
    from deconfliction.service.units import issue_unit_key, list_units

    rt = _runtime(Settings.from_env())
    try:
        found = [u for u in list_units(rt, None, party=party, limit=1_000_000) if unit in (u.id, u.name)]
        if not found:
            raise InvalidInput.one("unit", "unknown_unit", f"{party} has no unit {unit!r}")
        key, api_key, _ = issue_unit_key(rt, None, found[0].id)
    except DeconflictionError as exc:
        _fail(exc)
    finally:
        rt.store.close()
    out.print(f"Key {key.id} for unit [bold]{found[0].name}[/] ({found[0].id})")
    out.print(f"API key (shown once, store it now): [bold]{api_key}[/]")


def main() -> None:
    app()
