"""The documented defaults, read from docs/policy.md's tables and compared with the code's, so neither can
drift alone; and every branch of the policy file's validation, each with the bad input that reaches it.

The oracle tests elsewhere take their minima from the same policy object as the detector, so they cannot
notice a changed default: this file is what pins the numbers."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

from deconfliction.domain.acknowledgement import DEFAULT_NEEDS, AcknowledgementPolicy, Needed
from deconfliction.domain.notification import EscalationPolicy
from deconfliction.domain.operation import OperationState
from deconfliction.domain.policy import (
    DEFAULT_RULES,
    OperationKind,
    SeparationPolicy,
    SeparationRule,
    pair_name,
)
from deconfliction.errors import InvalidInput

POLICY_MD = Path(__file__).resolve().parents[2] / "docs" / "policy.md"


def tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table of ``text``: its rows (header first, the |---| line left out) of cells."""
    out: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= {"-", ":"} for c in cells):
                current.append(cells)
        elif current:
            out.append(current)
            current = []
    return out


def table_with(header: list[str]) -> list[list[str]]:
    found = [t for t in tables(POLICY_MD.read_text("utf-8")) if t[0] == header]
    assert len(found) == 1, f"docs/policy.md has {len(found)} tables headed {header}"
    return found[0][1:]


def number(cell: str, unit: str) -> float | None:
    """``9,260 m (5 NM)`` -> 9260.0 (the leading number in ``unit``); ``not compared`` -> None."""
    if cell == "not compared":
        return None
    m = re.match(rf"^([0-9][0-9,]*(?:\.[0-9]+)?) {unit}\b", cell)
    assert m, f"{cell!r} is not a number of {unit}"
    return float(m.group(1).replace(",", ""))


def test_the_separation_table_is_the_code() -> None:
    rows = table_with(["pair", "horizontal", "vertical", "time", "source"])
    documented = {row[0].strip("`"): (number(row[1], "m"), number(row[2], "m"), number(row[3], "s")) for row in rows}
    coded = {r.name: (r.horizontal_m, r.vertical_m, r.time_s) for r in DEFAULT_RULES}
    assert set(documented) == set(coded) == {pair_name(a, b) for a in OperationKind for b in OperationKind}
    for name, (h, v, t) in coded.items():
        dh, dv, dt = documented[name]
        # the table gives metres to the decimal written: 5 NM is 9,260 m, 1,000 ft 304.8 m
        assert dh is not None and math.isclose(h, dh, abs_tol=0.5), (name, h, dh)
        assert (v is None) == (dv is None), (name, v, dv)
        assert v is None or math.isclose(v, dv or 0.0, abs_tol=0.05), (name, v, dv)
        assert t == dt, (name, t, dt)
    # and the default policy is exactly these rules
    assert dict(SeparationPolicy().rules) == {r.name: r for r in DEFAULT_RULES}


def test_the_design_minima_are_exact() -> None:
    """5 NM, 1,000 ft and 1 km, exactly (the table rounds 9,260.0 m and 304.8 m)."""
    rules = {r.name: r for r in DEFAULT_RULES}
    assert rules["air-air"] == SeparationRule("air-air", 5 * 1852.0, 1000 * 0.3048, 0.0)
    assert rules["ground-ground"] == SeparationRule("ground-ground", 1000.0, None, 0.0)
    assert rules["maritime-maritime"] == SeparationRule("maritime-maritime", 1852.0, None, 0.0)
    assert rules["air-ground"] == SeparationRule("air-ground", 1000.0, 1000 * 0.3048, 0.0)
    assert rules["air-maritime"] == SeparationRule("air-maritime", 1000.0, 1000 * 0.3048, 0.0)
    assert rules["ground-maritime"] == SeparationRule("ground-maritime", 500.0, None, 0.0)


def test_the_escalation_table_is_the_code() -> None:
    rows = table_with(["member", "default", "meaning"])
    documented = {row[0].strip("`"): float(row[1].split()[0].replace(",", "")) for row in rows}
    assert documented == EscalationPolicy().record()
    assert EscalationPolicy().record() == {"default_s": 900.0, "floor_s": 60.0, "coordinator_shares": 1}


def test_the_acknowledgement_table_is_the_code() -> None:
    rows = table_with(["conflict kind", "default", "why"])
    documented = {re.sub(r"\s*\(.*", "", row[0]).strip("`"): row[1].strip("`") for row in rows}
    assert documented == AcknowledgementPolicy().as_dict() == {k: v.value for k, v in DEFAULT_NEEDS.items()}
    values = table_with(["value", "meaning"])
    assert [row[0].strip("`") for row in values] == [n.value for n in Needed]


# ------------------------------------------------------------------------------- separation policy file


def test_a_policy_needs_every_pair() -> None:
    with pytest.raises(ValueError, match="no rule for air-air"):
        SeparationPolicy({})
    some = {r.name: r for r in DEFAULT_RULES if r.name != "ground-maritime"}
    with pytest.raises(ValueError, match="no rule for ground-maritime"):
        SeparationPolicy(some)


def test_pairs_are_unordered_and_widest_covers_every_rule() -> None:
    p = SeparationPolicy()
    assert pair_name(OperationKind.GROUND, OperationKind.AIR) == "air-ground"
    assert p.rule(OperationKind.MARITIME, OperationKind.AIR).name == "air-maritime"
    air = p.widest(OperationKind.AIR)
    assert air == SeparationRule("widest-air", 5 * 1852.0, 1000 * 0.3048, 0.0)
    # a pair without vertical comparison makes the widest filter compare no altitudes
    assert p.widest(OperationKind.GROUND) == SeparationRule("widest-ground", 1000.0, None, 0.0)
    timed = SeparationPolicy.from_mapping(
        {"air-ground": {"time_s": 30, "vertical_m": 500}, "air-maritime": {"time_s": 20}}
    )
    assert timed.widest(OperationKind.AIR) == SeparationRule("widest-air", 5 * 1852.0, 500.0, 30.0)


def test_a_pair_given_changes_only_that_pair_and_keeps_unnamed_members() -> None:
    p = SeparationPolicy.from_mapping({"ground-air": {"horizontal_m": 2000}, "ground-ground": {"vertical_m": 10}})
    rules = {r.name: r for r in DEFAULT_RULES}
    assert p.rules["air-ground"] == SeparationRule("air-ground", 2000.0, 1000 * 0.3048, 0.0)
    assert p.rules["ground-ground"] == SeparationRule("ground-ground", 1000.0, 10.0, 0.0)
    assert p.rules["air-air"] == rules["air-air"]  # an air-ground entry never touches air-air
    assert {k: v for k, v in p.rules.items() if k not in ("air-ground", "ground-ground")} == {
        k: v for k, v in rules.items() if k not in ("air-ground", "ground-ground")
    }
    assert isinstance(p.rules["air-ground"].horizontal_m, float)
    p = SeparationPolicy.from_mapping({"air-air": {"vertical_m": None, "horizontal_m": 0, "time_s": 0.5}})
    assert p.rules["air-air"] == SeparationRule("air-air", 0.0, None, 0.5)
    assert SeparationPolicy.from_mapping({}) == SeparationPolicy()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"air-sea": {}}, [("air-sea", "unknown_pair")]),
        ({"air": {}}, [("air", "invalid_rule")]),
        ({"air-air-air": {}}, [("air-air-air", "invalid_rule")]),
        ({"air-air": 5}, [("air-air", "invalid_rule")]),
        ({"air-air": {"ceiling_m": 1}}, [("air-air.ceiling_m", "unknown_field")]),
        ({"air-air": {"horizontal_m": -1}}, [("air-air.horizontal_m", "invalid_number")]),
        ({"air-air": {"horizontal_m": -0.001}}, [("air-air.horizontal_m", "invalid_number")]),
        ({"air-air": {"horizontal_m": math.nan}}, [("air-air.horizontal_m", "invalid_number")]),
        ({"air-air": {"time_s": math.inf}}, [("air-air.time_s", "invalid_number")]),
        ({"air-air": {"time_s": True}}, [("air-air.time_s", "invalid_number")]),
        ({"air-air": {"time_s": "5"}}, [("air-air.time_s", "invalid_number")]),
        ({"air-air": {"horizontal_m": None}}, [("air-air.horizontal_m", "invalid_number")]),
        (
            {"air-sea": {}, "air-air": {"time_s": -1, "ceiling": 2}, "air-ground": {"vertical_m": "x"}},
            [
                ("air-sea", "unknown_pair"),
                ("air-air.time_s", "invalid_number"),
                ("air-air.ceiling", "unknown_field"),
                ("air-ground.vertical_m", "invalid_number"),
            ],
        ),
    ],
)
def test_every_bad_policy_entry_is_named(raw: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidInput) as err:
        SeparationPolicy.from_mapping(raw)
    assert [(e.field, e.code) for e in err.value.errors] == expected
    assert all(e.message for e in err.value.errors)


def test_policy_messages_say_what_is_expected() -> None:
    with pytest.raises(InvalidInput) as err:
        SeparationPolicy.from_mapping({"air-sea": {}, "air": {}, "air-air": {"x": 1, "time_s": -1}})
    assert [e.message for e in err.value.errors] == [
        "'air-sea' is not a pair of kinds like 'air-ground'",
        "a rule is {horizontal_m, vertical_m, time_s}",
        "expected horizontal_m, vertical_m, time_s",
        "must be a number >= 0",
    ]


def test_a_rule_reads_back_as_written() -> None:
    assert SeparationRule("air-air", 1.0, None, 2.0).as_dict() == {
        "name": "air-air",
        "horizontal_m": 1.0,
        "vertical_m": None,
        "time_s": 2.0,
    }


# ------------------------------------------------------------------------------ escalation section


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([], [("escalation", "invalid_value")]),
        ({"ceiling_s": 1}, [("escalation.ceiling_s", "unknown_field")]),
        ({"coordinator_shares": 0}, [("escalation.coordinator_shares", "invalid_number")]),
        ({"coordinator_shares": 11}, [("escalation.coordinator_shares", "invalid_number")]),
        ({"coordinator_shares": 2.0}, [("escalation.coordinator_shares", "invalid_number")]),
        ({"coordinator_shares": True}, [("escalation.coordinator_shares", "invalid_number")]),
        ({"floor_s": 0}, [("escalation.floor_s", "invalid_number")]),
        ({"floor_s": -1}, [("escalation.floor_s", "invalid_number")]),
        ({"floor_s": math.nan}, [("escalation.floor_s", "invalid_number")]),
        ({"default_s": math.inf}, [("escalation.default_s", "invalid_number")]),
        ({"default_s": False}, [("escalation.default_s", "invalid_number")]),
        ({"default_s": "900"}, [("escalation.default_s", "invalid_number")]),
        ({"floor_s": 901}, [("escalation.floor_s", "invalid_number")]),
        ({"default_s": 50}, [("escalation.floor_s", "invalid_number")]),
        ({"default_s": 604_801}, [("escalation.default_s", "invalid_number")]),
        ({"floor_s": -1, "default_s": 50}, [("escalation.floor_s", "invalid_number")]),
        (
            {"floor_s": 0, "ceiling_s": 1, "coordinator_shares": 0},
            [
                ("escalation.floor_s", "invalid_number"),
                ("escalation.ceiling_s", "unknown_field"),
                ("escalation.coordinator_shares", "invalid_number"),
            ],
        ),
    ],
)
def test_every_bad_escalation_member_is_named(raw: Any, expected: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidInput) as err:
        EscalationPolicy.from_mapping(raw)
    assert [(e.field, e.code) for e in err.value.errors] == expected


def test_escalation_edges_are_accepted() -> None:
    p = EscalationPolicy.from_mapping({"coordinator_shares": 1, "floor_s": 900, "default_s": 900})
    assert p == EscalationPolicy(900.0, 900.0, 1)
    assert EscalationPolicy.from_mapping({"coordinator_shares": 10}).coordinator_shares == 10
    assert EscalationPolicy.from_mapping({"default_s": 604_800}).default_s == 604_800.0
    assert EscalationPolicy.from_mapping({"floor_s": 0.5}).floor_s == 0.5
    assert EscalationPolicy.from_mapping({}) == EscalationPolicy()
    assert EscalationPolicy.from_mapping({"floor_s": 30}, where="x").floor_s == 30.0
    with pytest.raises(InvalidInput) as err:
        EscalationPolicy.from_mapping({"floor_s": 0}, where="units.escalation")
    assert err.value.errors[0].field == "units.escalation.floor_s"
    with pytest.raises(InvalidInput) as err:
        EscalationPolicy.from_mapping(None, where="units.escalation")
    assert err.value.errors[0].field == "units.escalation"


def test_escalation_messages() -> None:
    with pytest.raises(InvalidInput) as err:
        EscalationPolicy.from_mapping({"ceiling_s": 1, "coordinator_shares": 0, "floor_s": 0})
    assert [e.message for e in err.value.errors] == [
        "expected default_s, floor_s, coordinator_shares",
        "an integer from 1 to 10",
        "a number of seconds > 0",
    ]
    with pytest.raises(InvalidInput) as err:
        EscalationPolicy.from_mapping({"floor_s": 1000})
    assert err.value.errors[0].message == "must not exceed default_s"
    with pytest.raises(InvalidInput) as err:
        EscalationPolicy.from_mapping({"default_s": 700_000})
    assert err.value.errors[0].message == "at most a week (604800 s)"


# ------------------------------------------------------------------------- acknowledgement section


def test_acknowledgement_needs_by_state() -> None:
    p = AcknowledgementPolicy.from_mapping({"operation": "plan", "zone_entry": "none"})
    assert p.needed_for("operation", OperationState.PLANNED)
    assert p.needed_for("operation", OperationState.ACTIVE)
    assert not p.needed_for("zone_entry", OperationState.ACTIVE)
    assert p.needed_for("band_entry", OperationState.ACTIVE)
    assert not p.needed_for("band_entry", OperationState.PLANNED)
    assert not p.needed_for("unknown", OperationState.ACTIVE)
    for state in OperationState:
        if state not in (OperationState.PLANNED, OperationState.ACTIVE):
            assert not p.needed_for("operation", state), state
    assert AcknowledgementPolicy.from_mapping(None) == AcknowledgementPolicy()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([], [("acknowledgement", "invalid_section")]),
        ({"hospital": "plan"}, [("acknowledgement.hospital", "unknown_kind")]),
        ({"operation": "approve"}, [("acknowledgement.operation", "invalid_value")]),
        (
            {"hospital": "plan", "operation": "approve", "zone_entry": "plan"},
            [("acknowledgement.hospital", "unknown_kind"), ("acknowledgement.operation", "invalid_value")],
        ),
    ],
)
def test_every_bad_acknowledgement_member_is_named(raw: Any, expected: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidInput) as err:
        AcknowledgementPolicy.from_mapping(raw)
    assert [(e.field, e.code) for e in err.value.errors] == expected
    unknown = [e.message for e in err.value.errors if e.code == "unknown_kind"]
    assert all(m == "conflict kinds are operation, zone_entry, band_entry, protected_site" for m in unknown)
