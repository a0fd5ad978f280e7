"""docs/dss.md lists exactly the DSS operations of the standard (the operation list of ``uas_standards``),
and each one is served: without a token it is refused with 401, where a route that does not exist is 404."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from uas_standards.astm.f3548.v21.api import OPERATIONS

DSS_MD = Path(__file__).resolve().parents[2] / "docs" / "dss.md"


def _standard() -> set[tuple[str, str]]:
    return {(op.verb, op.path) for op in OPERATIONS.values() if op.path.startswith("/dss/")}


def test_docs_list_exactly_the_standards_dss_operations() -> None:
    documented = set(re.findall(r"^\| `(GET|POST|PUT|DELETE) (/dss/\S+?)`", DSS_MD.read_text(), flags=re.MULTILINE))
    assert len(documented) == 18
    assert documented == _standard()


def test_every_operation_is_served(dss_client: Any) -> None:
    for verb, path in sorted(_standard()):
        concrete = re.sub(r"\{[a-z_]+\}", lambda _: str(uuid.uuid4()), path)
        answer = dss_client.request(verb, concrete, json={})
        assert answer.status_code == 401, (verb, path, answer.status_code)
    assert dss_client.get(f"/dss/v1/no_such_thing/{uuid.uuid4()}").status_code == 404
