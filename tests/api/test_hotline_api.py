"""The hotline: threads between parties, messages from templates rendered in each reader's language,
each message a notification the recipient acknowledges; refs only to what the sender may see."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from deconfliction.domain.hotline import TEMPLATES, parse_message
from deconfliction.domain.party import Party
from tests.conftest import auth, square, volume_json

CONVOY = {"template": "humanitarian_movement", "params": {"place": "Al-Busayrah bridge", "time": "14:00Z"}}


def test_a_template_is_read_in_each_readers_language_and_acknowledged(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    ids = {n: p.id for n, (p, _) in parties.items()}
    assert client.put("/v1/preferences", json={"language": "ar"}, headers=auth(keys["bravo"])).json() == {
        "language": "ar"
    }
    bad = client.put("/v1/preferences", json={"language": "fr"}, headers=auth(keys["bravo"]))
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "unknown_language"
    op = client.post(
        "/v1/operations", json={"kind": "ground", "volumes": [volume_json(square(40, 35))]}, headers=auth(keys["alpha"])
    )
    message = {**CONVOY, "refs": [{"type": "operation", "id": op.json()["operation"]["id"]}]}
    r = client.post(
        "/v1/threads",
        json={"participants": [ids["bravo"]], "subject": "Convoy 14:00", "message": message},
        headers=auth(keys["alpha"]),
    )
    assert r.status_code == 201, r.text
    thread = r.json()["thread"]
    # bravo is told, in Arabic, with a deadline; it acknowledges receipt
    (note,) = client.get("/v1/notifications", headers=auth(keys["bravo"])).json()["items"]
    arabic = parse_message(CONVOY).render("ar")
    assert "14:00 UTC" in arabic and "14:00Z" not in arabic  # the time as a value, in the reader's format
    assert note["kind"] == "message" and note["body"]["text"] == arabic and note["deadline"]
    assert client.post(f"/v1/notifications/{note['id']}/ack", headers=auth(keys["bravo"])).status_code == 200
    # each reads the thread in its own language
    mine = client.get(f"/v1/threads/{thread}", headers=auth(keys["alpha"])).json()
    theirs = client.get(f"/v1/threads/{thread}", headers=auth(keys["bravo"])).json()
    assert mine["messages"][0]["text"].startswith("A humanitarian convoy will pass Al-Busayrah bridge")
    assert theirs["messages"][0]["text"] == arabic
    # bravo answers in free text; alpha is told
    reply = client.post(
        f"/v1/threads/{thread}/messages",
        json={"text": "Received, no movement there at 14:00."},
        headers=auth(keys["bravo"]),
    )
    assert reply.status_code == 201
    told = client.get("/v1/notifications", headers=auth(keys["alpha"])).json()["items"]
    assert [n["body"]["text"] for n in told if n["kind"] == "message"] == ["Received, no movement there at 14:00."]
    # a free text is labelled with its own language, whoever reads it; a template with the reader's
    assert [n["body"]["language"] for n in told if n["kind"] == "message"] == ["en"]
    mine = client.get(f"/v1/threads/{thread}", headers=auth(keys["alpha"])).json()
    assert [m["language"] for m in mine["messages"]] == ["en", "en"]
    theirs = client.get(f"/v1/threads/{thread}", headers=auth(keys["bravo"])).json()
    assert [m["language"] for m in theirs["messages"]] == ["ar", "en"]
    # the thread is the participants' and the coordinator's; an observer sees nothing of it
    assert client.get(f"/v1/threads/{thread}", headers=auth(keys["cell"])).status_code == 200
    assert client.get(f"/v1/threads/{thread}", headers=auth(keys["watcher"])).status_code == 404
    assert client.get("/v1/threads", headers=auth(keys["watcher"])).json()["items"] == []
    assert (
        client.post(f"/v1/threads/{thread}/messages", json={"text": "x"}, headers=auth(keys["cell"])).status_code == 403
    )


def test_bad_messages_are_refused_by_field(client: TestClient, parties: dict[str, tuple[Party, str]]) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    ids = {n: p.id for n, (p, _) in parties.items()}
    theirs = client.post(
        "/v1/operations", json={"kind": "ground", "volumes": [volume_json(square(41, 35))]}, headers=auth(keys["bravo"])
    )

    def start(message: Any, who: str = "alpha", to: str = "bravo") -> Any:
        return client.post(
            "/v1/threads", json={"participants": [ids[to]], "subject": "s", "message": message}, headers=auth(keys[who])
        )

    cases = {
        "message": {"text": "a", "template": "request_call"},
        "message.template": {"template": "nope"},
        "message.params.time": {"template": "humanitarian_movement", "params": {"place": "x"}},
        "message.params.mood": {"template": "request_call", "params": {"subject": "x", "mood": "y"}},
        "message.refs[0]": {"text": "a", "refs": [{"type": "operation", "id": theirs.json()["operation"]["id"]}]},
    }
    for field, message in cases.items():
        r = start(message)
        assert r.status_code == 422, (field, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())
    assert start({"text": "hello"}, who="watcher").status_code == 403
    assert start({"text": "hello"}, to="watcher").json()["errors"][0]["field"] == "participants[0]"
    listed = client.get("/v1/templates", headers=auth(keys["alpha"])).json()
    assert listed["languages"] == ["en", "ru", "ar"] and set(listed["templates"]) == set(TEMPLATES)
    assert all(set(t["text"]) == {"en", "ru", "ar"} for t in listed["templates"].values())
    assert listed["templates"]["not_our_unit"]["values"] == {"position": "position", "time": "time"}
    assert listed["templates"]["request_call"]["values"] == {}
