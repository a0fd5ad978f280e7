"""A party with a signing key on the web map (docs/web.md): the page does not sign, so it reads
everything as before and a write made on it is refused with the reason shown; nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction.client import public_key_text
from deconfliction.domain.signing import sign_request
from tests.web.conftest import Cell, Shots, open_page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-2")]

LIVE_S = 15_000


def _volume(start: datetime) -> dict[str, Any]:
    square = [[41.0, 36.0], [41.1, 36.0], [41.1, 36.1], [41.0, 36.1], [41.0, 36.0]]
    return {
        "footprint": {"type": "Polygon", "coordinates": [square]},
        "altitude": {"lower_m": 0, "upper_m": 3000},
        "window": {
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def test_a_signing_party_reads_the_map_and_its_writes_there_are_refused_with_the_reason(
    browser: Any, cell: Cell, shots: Shots
) -> None:
    r = cell.call("coordinator", "POST", "/v1/parties", json={"name": "South Force", "role": "party"})
    assert r.status_code == 201, r.text
    cell.keys["south"] = r.json()["api_key"]
    private = Ed25519PrivateKey.generate()
    r = cell.call("south", "POST", "/v1/keys", json={"public_key": public_key_text(private)})
    assert r.status_code == 201, r.text
    # East declares; South declares over it, signed: both are told, each with a deadline to acknowledge
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    body = {"kind": "air", "title": "East patrol", "volumes": [_volume(start)]}
    assert cell.call("east", "POST", "/v1/operations", json=body).status_code == 201
    body = {"kind": "air", "title": "South sortie", "volumes": [_volume(start)]}
    signed = sign_request(private, "POST", "/v1/operations", body, datetime.now(UTC))
    r = httpx.post(
        cell.url + "/v1/operations",
        content=orjson.dumps(body),
        headers={"Authorization": f"Bearer {cell.keys['south']}", "Content-Type": "application/json", **signed},
        timeout=30,
    )
    assert r.status_code == 201, r.text

    errors: list[str] = []
    south = open_page(browser, cell, "south", errors)
    card = south.locator('#notifications [data-kind="conflict.opened"]').filter(has_text="East Force")
    card.first.wait_for(timeout=LIVE_S)
    shots.take(south, "south-reads")
    card.first.get_by_role("button", name="Acknowledge", exact=False).click()
    card.first.get_by_text("must be signed").wait_for(timeout=LIVE_S)
    shots.take(south, "south-refused")
    notes = cell.call("south", "GET", "/v1/notifications").json()["items"]
    assert notes and all(n["state"] == "pending" for n in notes if n["kind"] == "conflict.opened")
    assert not errors, errors
    south.context.close()
