"""The ledger over HTTP and the CLI: receipts on writes, exports per reader that verify offline, redaction
by need-to-know, paging, and a database from before the chain sealed on migration."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from deconfliction.cli import app
from deconfliction.domain.ledger import export_line, verify
from deconfliction.domain.party import Party
from deconfliction.service.runtime import Runtime
from tests.conftest import auth, square, volume_json

JSONL = "application/jsonl"


def lines(r: Any) -> list[dict[str, Any]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(JSONL)
    return [orjson.loads(x) for x in r.content.splitlines()]


@pytest.fixture
def crossing(client: TestClient, parties: dict[str, tuple[Party, str]]) -> dict[str, Any]:
    """alpha and bravo declare overlapping operations; returns both write responses."""
    keys = {name: key for name, (_, key) in parties.items()}
    a = client.post(
        "/v1/operations", json={"kind": "air", "volumes": [volume_json(square(40, 35))]}, headers=auth(keys["alpha"])
    )
    b = client.post(
        "/v1/operations",
        json={"kind": "air", "volumes": [volume_json(square(40.05, 35.05))]},
        headers=auth(keys["bravo"]),
    )
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    assert len(b.json()["conflicts"]) == 1
    alpha_conflicts = client.get("/v1/conflicts", headers=auth(keys["alpha"])).json()["items"]
    return {"keys": keys, "alpha": a.json(), "bravo": b.json(), "alpha_conflicts": alpha_conflicts}


def test_every_write_returns_the_head_as_its_receipt(client: TestClient, crossing: dict[str, Any]) -> None:
    keys = crossing["keys"]
    ra, rb = crossing["alpha"]["receipt"], crossing["bravo"]["receipt"]
    assert rb["seq"] == ra["seq"] + 3  # bravo's write appended its operation and the conflict, once per side
    head = client.get("/v1/ledger/head", headers=auth(keys["alpha"])).json()
    assert head == {"seq": rb["seq"], "hash": rb["hash"]} == rb["head"]


def test_each_reader_gets_an_export_that_verifies_with_need_to_know(
    client: TestClient, crossing: dict[str, Any]
) -> None:
    keys = crossing["keys"]
    a_op, b_op = crossing["alpha"]["operation"], crossing["bravo"]["operation"]
    receipts = [crossing["alpha"]["receipt"], crossing["bravo"]["receipt"]]
    by_type: dict[str, dict[str, Any]] = {}
    for reader in ("alpha", "bravo", "cell", "watcher"):
        r = client.get("/v1/ledger", headers=auth(keys[reader]))
        report = verify(r.content.splitlines(), receipts=receipts)
        assert report.ok, (reader, [str(p) for p in report.problems])
        entries = lines(r)[1:]
        visible = {e["content"]["type"] + ":" + e["content"]["subject"] for e in entries if "content" in e}
        by_type[reader] = {"visible": visible, "text": r.text, "redacted": sum(1 for e in entries if e.get("redacted"))}
    conflict_id = crossing["bravo"]["conflicts"][0]["id"]
    a_entry, b_entry = f"operation.created:{a_op['id']}", f"operation.created:{b_op['id']}"
    assert a_entry in by_type["alpha"]["visible"] and b_entry not in by_type["alpha"]["visible"]
    assert b_entry in by_type["bravo"]["visible"] and a_entry not in by_type["bravo"]["visible"]
    for side in ("alpha", "bravo"):
        assert f"conflict.opened:{conflict_id}" in by_type[side]["visible"]
    # each side's conflict entry is exactly what that side was told, and nothing of the other's plan
    for reader, told in (("alpha", crossing["alpha_conflicts"]), ("bravo", crossing["bravo"]["conflicts"])):
        entries = [orjson.loads(x) for x in by_type[reader]["text"].splitlines()[1:]]
        opened = [e["content"]["payload"] for e in entries if e.get("content", {}).get("type") == "conflict.opened"]
        assert opened == told, reader
    assert b_op["id"] not in by_type["alpha"]["text"]
    assert a_op["id"] not in by_type["bravo"]["text"]
    assert by_type["cell"]["redacted"] == 0
    for_everyone = ("party.created", "service.key")
    assert by_type["watcher"]["visible"] == {v for v in by_type["cell"]["visible"] if v.startswith(for_everyone)}


def test_pages_verify_on_their_own_and_chain_into_each_other(client: TestClient, crossing: dict[str, Any]) -> None:
    key = crossing["keys"]["cell"]
    head = client.get("/v1/ledger/head", headers=auth(key)).json()["seq"]
    after, seen = 0, []
    previous = "0" * 64
    while after < head:
        page = client.get(f"/v1/ledger?after={after}&limit=2", headers=auth(key))
        assert verify(page.content.splitlines()).ok
        header, *entries = lines(page)
        assert header["previous_hash"] == previous
        seen += [e["seq"] for e in entries]
        previous = entries[-1]["hash"]
        after = header["until_seq"]
    assert seen == list(range(1, head + 1))
    r = client.get(f"/v1/ledger?after={head + 1}", headers=auth(key))
    assert (r.status_code, r.json()["code"]) == (422, "validation_failed")
    assert client.get("/v1/ledger").status_code == 401


def test_cli_exports_and_verifies_and_finds_a_changed_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv("DECONFLICTION_DATABASE_URL", f"sqlite:///{tmp_path}/l.db")
    for name in ("Alpha", "Bravo"):
        assert runner.invoke(app, ["party", "add", name]).exit_code == 0
    out = tmp_path / "ledger.jsonl"
    result = runner.invoke(app, ["ledger", "export", "-o", str(out), "--party", "Alpha"])
    assert result.exit_code == 0, result.output
    ok = runner.invoke(app, ["ledger", "verify", str(out)], terminal_width=200)
    assert ok.exit_code == 0 and "valid: 2 entries" in ok.output, ok.output
    text = out.read_bytes().replace(b'"name":"Bravo"', b'"name":"Bravp"')
    out.write_bytes(text)
    bad = runner.invoke(app, ["ledger", "verify", str(out)], terminal_width=200)
    assert bad.exit_code == 1
    assert "line 3 (entry 2): the content does not match its content_hash" in bad.output, bad.output
    assert runner.invoke(app, ["ledger", "export", "--party", "Nobody"]).exit_code == 2


def test_events_from_before_the_chain_are_sealed_on_migration(tmp_path: Path) -> None:
    from deconfliction.service.ledger import export_ledger
    from deconfliction.store import open_store
    from deconfliction.store.sql import SQLITE, migration_scripts, statements

    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
    )
    version, name, script = migration_scripts()[0]
    for stmt in statements(script, SQLITE):
        con.execute(stmt)
    con.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, name))
    for seq in (1, 2):
        con.execute("INSERT INTO events VALUES (?, ?, NULL, 'party.created', ?, '{}')", (seq, seq * 1000, f"pt_{seq}"))
    con.execute("UPDATE store_head SET last_seq = 2")
    con.commit()
    con.close()
    store = open_store(f"sqlite:///{db}")
    try:
        rt = Runtime(store)
        exported = [export_line(x) for x in export_ledger(rt, None)]
        assert verify(exported).ok
        with store.write() as tx:
            assert tx.events.append(at=rt.clock(), actor_id=None, type="x", subject_id="y", payload={}) == 3
        assert verify([export_line(x) for x in export_ledger(rt, None)]).ok
    finally:
        store.close()
