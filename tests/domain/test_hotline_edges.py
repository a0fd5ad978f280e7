"""Hotline rules at their edges (domain/hotline.py): template values read and written in each language
(times of day across midnight, offsets, both hemispheres and zero, the limits of a position), the
script of a free text, and every refusal of ``parse_message`` with the input that reaches it."""

from __future__ import annotations

from typing import Any

import pytest

from deconfliction.domain.hotline import (
    MAX_PARTICIPANTS,
    MAX_TEXT,
    REF_TYPES,
    MessageContent,
    parse_language,
    parse_message,
    parse_value,
    render_value,
    script_language,
    template_fields,
)
from deconfliction.errors import InvalidInput


def test_limits() -> None:
    assert (MAX_TEXT, MAX_PARTICIPANTS) == (4000, 10)
    assert REF_TYPES == ("operation", "conflict", "zone", "site", "line")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("14:00Z", "14:00Z"),
        (" 09:05:30Z ", "09:05:30Z"),
        ("00:00Z", "00:00Z"),
        ("23:59Z", "23:59Z"),
        ("16:00+02:00", "14:00Z"),
        ("01:30+02:00", "23:30Z"),  # the day before, in UTC
        ("23:30-01:00", "00:30Z"),  # the day after
        ("12:00-10:30", "22:30Z"),
        ("12:00+00:00", "12:00Z"),
        ("2026-12-06T16:00:00+02:00", "2026-12-06T14:00:00Z"),
        ("2026-12-06T14:00:00Z", "2026-12-06T14:00:00Z"),
        ("2026-12-06t14:00:00z", "2026-12-06T14:00:00Z"),
        ("2026-12-06T14:00:00.75Z", "2026-12-06T14:00:00Z"),
    ],
)
def test_times_are_kept_in_utc(raw: str, value: str) -> None:
    assert parse_value("time", raw, "t") == value


@pytest.mark.parametrize(
    "raw", ["24:00Z", "14:60Z", "14:00", "14:00:60Z", "14:00+24:00", "2026-12-06", "2026-12-06T14:00:00", "soon", ""]
)
def test_other_times_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_value("time", raw, "message.params.time")
    assert [(f.field, f.code) for f in e.value.errors] == [("message.params.time", "invalid_time")]


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("35.4012, 40.1234", "35.4012,40.1234"),
        ("+35 , +40", "35,40"),
        ("90,180", "90,180"),
        ("-90,-180", "-90,-180"),
        ("-0.5,-179.1234567", "-0.5,-179.1234567"),
    ],
)
@pytest.mark.parametrize("kind", ["position", "place"])
def test_positions_are_kept_as_lat_lon(kind: str, raw: str, value: str) -> None:
    assert parse_value(kind, raw, "p") == value


@pytest.mark.parametrize("raw", ["90.1,0", "-90.0001,0", "0,180.5", "0,-180.0000001"])
@pytest.mark.parametrize("kind", ["position", "place"])
def test_positions_off_the_globe_are_refused(kind: str, raw: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_value(kind, raw, "p")
    assert [(f.field, f.code) for f in e.value.errors] == [("p", "out_of_range")]


def test_value_messages() -> None:
    def message(kind: str, raw: str) -> str:
        with pytest.raises(InvalidInput) as e:
            parse_value(kind, raw, "p")
        return e.value.errors[0].message

    assert message("time", "soon") == (
        "an RFC 3339 time with an offset (2026-12-06T14:00:00Z) or a time of day (14:00Z)"
    )
    assert message("position", "91,0") == "latitude in [-90, 90], longitude in [-180, 180]"
    assert message("position", "bridge") == "a position is 'lat, lon' in decimal degrees (35.4012, 40.1234)"
    assert message("text", " ") == "empty"


def test_a_place_may_be_a_name_and_a_position_may_not() -> None:
    assert parse_value("place", "  the old bridge ", "p") == "the old bridge"
    assert parse_value("place", "35.12345678,40", "p") == "35.12345678,40"  # 8 decimals: not a position
    with pytest.raises(InvalidInput) as e:
        parse_value("position", "the old bridge", "p")
    assert [(f.field, f.code) for f in e.value.errors] == [("p", "invalid_position")]


@pytest.mark.parametrize("kind", ["place", "text"])
def test_an_empty_value_is_refused(kind: str) -> None:
    assert parse_value(kind, " op_1 ", "p") == "op_1"
    with pytest.raises(InvalidInput) as e:
        parse_value(kind, "   ", "p")
    assert [(f.field, f.code) for f in e.value.errors] == [("p", "invalid_value")]


@pytest.mark.parametrize(
    ("value", "language", "text"),
    [
        ("14:00Z", "en", "14:00 UTC"),
        ("14:00:30Z", "ru", "14:00:30 UTC"),
        ("2026-12-06T14:00:00Z", "en", "14:00 UTC on 6 December 2026"),
        ("2026-12-06T14:00:00Z", "ru", "14:00 UTC 6 декабря 2026 г."),
        ("2026-12-06T14:00:00Z", "ar", "14:00 UTC 6 ديسمبر 2026"),
        ("2026-01-31T09:05:07Z", "en", "09:05:07 UTC on 31 January 2026"),
        ("2026-01-31T09:05:00Z", "ru", "09:05 UTC 31 января 2026 г."),
        ("2026-05-01T00:00:00Z", "xx", "00:00 UTC on 1 May 2026"),
    ],
)
def test_times_are_written_in_the_reader_s_words(value: str, language: str, text: str) -> None:
    assert render_value("time", value, language) == text


@pytest.mark.parametrize(
    ("value", "language", "text"),
    [
        ("35.4012,40.1234", "en", "35.4012° N, 40.1234° E"),
        ("-35.5,-40.25", "en", "35.5° S, 40.25° W"),
        ("-35.5,-40.25", "ru", "35,5° ю. ш., 40,25° з. д."),
        ("35.5,40.25", "ru", "35,5° с. ш., 40,25° в. д."),
        ("-35.5,-40.25", "ar", "35.5° جنوباً، 40.25° غرباً"),
        ("35.5,40.25", "ar", "35.5° شمالاً، 40.25° شرقاً"),
        ("-0,-0.0", "en", "0° N, 0.0° E"),
        ("0,-1", "fr", "0° N, 1° W"),
    ],
)
def test_positions_are_written_in_the_reader_s_words(value: str, language: str, text: str) -> None:
    assert render_value("position", value, language) == text
    assert render_value("place", value, language) == text


def test_names_and_other_values_are_written_as_given() -> None:
    assert render_value("place", "the old bridge", "ru") == "the old bridge"
    assert render_value(None, "35.5,40.25", "ru") == "35.5,40.25"
    assert render_value("text", "op_1", "ar") == "op_1"


def test_template_fields() -> None:
    assert template_fields("not_our_unit") == {"subject", "position", "time"}
    assert template_fields("request_call") == {"subject"}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Привет", "ru"),
        ("مرحبا", "ar"),
        ("ݐݑ", "ar"),  # Arabic Supplement
        ("hello", "en"),
        ("hello мир", "en"),
        ("hi мир", "ru"),
        ("ok مرحبا", "ar"),
        ("12:00 !", None),
        ("", None),
    ],
)
def test_script_language(text: str, language: str | None) -> None:
    assert script_language(text) == language


def test_what_each_reader_reads() -> None:
    text = MessageContent(text="Привет", language="ru")
    assert (text.render("en"), text.language_for("en"), text.language_for("ar")) == ("Привет", "ru", "ru")
    assert MessageContent(text="hi").language_for("ar") == "en"
    assert MessageContent().render("en") == ""
    t = MessageContent(template="request_call", params={"subject": "op_1"})
    assert t.render("ru") == "Пожалуйста, свяжитесь с нами по поводу op_1 как можно скорее."
    assert t.render("fr") == "Please call us about op_1 as soon as possible."
    assert (t.language_for("ar"), t.language_for("fr")) == ("ar", "en")


def test_written_in() -> None:
    assert MessageContent(text="Привет").written_in("ar").language == "ru"
    assert MessageContent(text="12:00").written_in("ar").language == "ar"
    assert MessageContent().written_in("ru").language == "ru"
    given = MessageContent(text="Привет", language="en")
    assert given.written_in("ar") is given
    t = MessageContent(template="request_call", params={"subject": "x"})
    assert t.written_in("ru") is t


def test_records_round_trip() -> None:
    t = MessageContent(None, "request_call", {"subject": "op_1"}, (("operation", "op_1"),))
    assert t.record() == {
        "refs": [{"type": "operation", "id": "op_1"}],
        "template": "request_call",
        "params": {"subject": "op_1"},
    }
    assert MessageContent.from_record(t.record()) == t
    x = MessageContent("hi", None, {}, (), "en")
    assert x.record() == {"refs": [], "text": "hi", "language": "en"}
    assert MessageContent.from_record(x.record()) == x
    assert MessageContent("hi").record() == {"refs": [], "text": "hi"}
    assert MessageContent.from_record({"text": "hi"}) == MessageContent("hi")


def problems(raw: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as e:
        parse_message(raw, "m")
    return [(f.field, f.code) for f in e.value.errors]


def test_a_text_message() -> None:
    m = parse_message({"text": "  convoy at the bridge  ", "refs": [{"type": "zone", "id": "zn_1"}], "language": "en"})
    assert m == MessageContent("convoy at the bridge", None, {}, (("zone", "zn_1"),), "en")
    assert parse_message({"text": "x" * 4000}).text == "x" * 4000
    assert parse_message({"text": " " + "x" * 4000 + " "}).text == "x" * 4000


def test_a_template_message() -> None:
    m = parse_message({"template": "conflict_seen", "params": {"conflict": "cf_1", "time": "16:00+02:00"}})
    assert m == MessageContent(None, "conflict_seen", {"conflict": "cf_1", "time": "14:00Z"}, (), None)
    assert parse_message({"template": "request_call", "params": {"subject": "s" * 200}}).params["subject"] == "s" * 200


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, [("m", "invalid_value")]),
        ("hello", [("m", "invalid_value")]),
        ({"text": "x", "to": "pt_b"}, [("m.to", "unknown_field")]),
        ({}, [("m", "text_or_template")]),
        ({"text": "x", "template": "request_call", "params": {"subject": "y"}}, [("m", "text_or_template")]),
        ({"text": ""}, [("m.text", "invalid_value")]),
        ({"text": "   "}, [("m.text", "invalid_value")]),
        ({"text": 5}, [("m.text", "invalid_value")]),
        ({"text": "x" * 4001}, [("m.text", "invalid_value")]),
        ({"text": "x", "language": "fr"}, [("m.language", "unknown_language")]),
        (
            {"template": "request_call", "params": {"subject": "y"}, "language": "en"},
            [("m.language", "unknown_language")],
        ),
        ({"template": "greeting"}, [("m.template", "unknown_template")]),
        ({"template": "request_call", "params": ["subject"]}, [("m.params", "invalid_value")]),
        ({"template": "request_call", "params": {"subject": 5}}, [("m.params", "invalid_value")]),
        ({"template": "request_call", "params": {"subject": "s" * 201}}, [("m.params", "invalid_value")]),
        ({"template": "request_call"}, [("m.params.subject", "missing_field")]),
        ({"template": "request_call", "params": {}}, [("m.params.subject", "missing_field")]),
        (
            {"template": "request_call", "params": {"subject": "y", "time": "14:00Z"}},
            [("m.params.time", "unknown_field")],
        ),
        (
            {"template": "conflict_seen", "params": {"conflict": " ", "time": "later"}},
            [("m.params.conflict", "invalid_value"), ("m.params.time", "invalid_time")],
        ),
        ({"text": "x", "refs": {"type": "zone"}}, [("m.refs", "invalid_value")]),
        (
            {"text": "x", "refs": ["zn_1", {"type": "party", "id": "p"}, {"type": "zone", "id": 1}, {"type": "zone"}]},
            [("m.refs[0]", "invalid_value"), ("m.refs[1]", "invalid_value"), ("m.refs[2]", "invalid_value"),
             ("m.refs[3]", "invalid_value")],
        ),
    ],
)  # fmt: skip
def test_every_refusal(raw: Any, expected: list[tuple[str, str]]) -> None:
    assert problems(raw) == expected


def test_refs_and_language_messages() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_message({"text": "x", "refs": "zn_1"})
    assert [(f.field, f.message) for f in e.value.errors] == [("message.refs", "a list of {type, id}")]
    with pytest.raises(InvalidInput) as e:
        parse_message({"text": "x", "refs": [5]})
    assert [(f.field, f.message) for f in e.value.errors] == [
        ("message.refs[0]", "{type: operation|conflict|zone|site|line, id}")
    ]
    with pytest.raises(InvalidInput) as e:
        parse_language("fr")
    assert e.value.errors[0].message == "languages: en, ru, ar"


def test_parameter_messages() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_message({"template": "request_call", "params": {"time": "14:00Z"}})
    assert [(f.field, f.message) for f in e.value.errors] == [
        ("message.params.subject", "request_call needs subject"),
        ("message.params.time", "request_call has no time"),
    ]


def test_the_language_refusal_says_why() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_message({"template": "request_call", "params": {"subject": "y"}, "language": "en"})
    assert e.value.errors[0].message == "the language of a free text: a template is read in each reader's language"
    with pytest.raises(InvalidInput) as e:
        parse_message({"text": "x", "language": "fr"})
    assert e.value.errors[0].message == "the language of a free text: one of en, ru, ar"
    assert e.value.errors[0].field == "message.language"


@pytest.mark.parametrize("language", ["en", "ru", "ar"])
def test_parse_language(language: str) -> None:
    assert parse_language(language) == language


@pytest.mark.parametrize("raw", ["fr", None, "EN", 1])
def test_parse_language_refuses_others(raw: Any) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_language(raw)
    assert [(f.field, f.code) for f in e.value.errors] == [("language", "unknown_language")]
