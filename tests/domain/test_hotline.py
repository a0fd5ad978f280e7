"""Every template has the same parameters in every language, and renders in each."""

from __future__ import annotations

import string

import pytest

from deconfliction.domain.hotline import (
    LANGUAGES,
    PARAM_KINDS,
    TEMPLATES,
    MessageContent,
    parse_message,
    render_value,
    template_fields,
)
from deconfliction.errors import InvalidInput

SAMPLES = {"time": "2018-02-07T20:30:00+03:00", "position": "35.4012, -40.1234", "place": "-35.5, 40.25"}


def test_every_translation_has_the_same_parameters_and_renders() -> None:
    for key, texts in TEMPLATES.items():
        assert set(texts) == set(LANGUAGES), key
        fields = template_fields(key)
        for lang, text in texts.items():
            assert {f for _, f, _, _ in string.Formatter().parse(text) if f} == fields, (key, lang)
            params = {f: SAMPLES.get(f, f"<{f}>") for f in fields}
            content = parse_message({"template": key, "params": params})
            rendered = content.render(lang)
            assert "{" not in rendered
            for f in fields:
                kind = PARAM_KINDS.get(f)
                assert render_value(kind, content.params[f], lang) in rendered, (key, lang, f)


def test_template_values_are_written_in_each_reader_s_language_and_format() -> None:
    m = parse_message(
        {
            "template": "not_our_unit",
            "params": {"subject": "Column UNK-7", "position": "35.4012, 40.1234", "time": "2018-02-07T20:30:00+03:00"},
        }
    )
    # kept as values: the instant in UTC, the position as numbers, never the sender's words
    assert m.params == {"subject": "Column UNK-7", "position": "35.4012,40.1234", "time": "2018-02-07T17:30:00Z"}
    assert m.render("en") == (
        "Column UNK-7, seen at 35.4012° N, 40.1234° E at 17:30 UTC on 7 February 2018, is not our unit. "
        "We have no one there."
    )
    assert m.render("ru") == (
        "Column UNK-7, обнаруженный в точке 35,4012° с. ш., 40,1234° в. д. в 17:30 UTC 7 февраля 2018 г., "
        "— не наше подразделение. У нас там никого нет."
    )
    assert "35.4012° شمالاً، 40.1234° شرقاً" in m.render("ar") and "7 فبراير 2018" in m.render("ar")
    # southern and western hemispheres; a time of day; a place that is a name stays as given
    assert render_value("position", "-33.9,-70.65", "ru") == "33,9° ю. ш., 70,65° з. д."
    assert render_value("position", "-33.9,-70.65", "en") == "33.9° S, 70.65° W"
    convoy = parse_message(
        {"template": "humanitarian_movement", "params": {"place": "Al-Busayrah bridge", "time": "16:00+02:00"}}
    )
    assert convoy.params["time"] == "14:00Z"
    assert (
        convoy.render("ru")
        == "Гуманитарный конвой пройдёт Al-Busayrah bridge в 14:00 UTC. Пожалуйста, подтвердите получение."
    )


def test_bad_template_values_are_refused_by_field() -> None:
    cases = {
        "message.params.time": {"subject": "x", "position": "35, 40", "time": "tomorrow"},
        "message.params.position": {"subject": "x", "position": "north of the bridge", "time": "14:00Z"},
    }
    for field, params in cases.items():
        with pytest.raises(InvalidInput) as refused:
            parse_message({"template": "not_our_unit", "params": params})
        assert [e.field for e in refused.value.errors] == [field], refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        parse_message({"template": "not_our_unit", "params": {"subject": "x", "position": "95, 40", "time": "14:00Z"}})
    assert refused.value.errors[0].code == "out_of_range"


def test_a_free_text_is_labelled_with_its_own_language() -> None:
    assert parse_message({"text": "Это не наши люди."}).written_in("en").language == "ru"
    assert parse_message({"text": "ليست وحدتنا"}).written_in("en").language == "ar"
    assert parse_message({"text": "Not ours."}).written_in("ru").language == "en"
    assert parse_message({"text": "14:00"}).written_in("ru").language == "ru"  # no letters: the sender's
    assert parse_message({"text": "OK", "language": "ru"}).written_in("en").language == "ru"  # as given
    reply = parse_message({"text": "Это не наши люди."}).written_in("en")
    assert reply.language_for("en") == "ru" and MessageContent.from_record(reply.record()) == reply


def test_a_message_round_trips_through_its_record() -> None:
    m = parse_message(
        {"template": "request_call", "params": {"subject": "cf_1"}, "refs": [{"type": "conflict", "id": "cf_1"}]}
    )
    assert MessageContent.from_record(m.record()) == m
    t = parse_message({"text": "  hello  "})
    assert t.text == "hello" and MessageContent.from_record(t.record()) == t
