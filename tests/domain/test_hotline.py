"""Every template has the same parameters in every language, and renders in each."""

from __future__ import annotations

import string

from deconfliction.domain.hotline import LANGUAGES, TEMPLATES, MessageContent, parse_message, template_fields


def test_every_translation_has_the_same_parameters_and_renders() -> None:
    for key, texts in TEMPLATES.items():
        assert set(texts) == set(LANGUAGES), key
        fields = template_fields(key)
        for lang, text in texts.items():
            assert {f for _, f, _, _ in string.Formatter().parse(text) if f} == fields, (key, lang)
            params = {f: f"<{f}>" for f in fields}
            rendered = parse_message({"template": key, "params": params}).render(lang)
            assert all(f"<{f}>" in rendered for f in fields) and "{" not in rendered


def test_a_message_round_trips_through_its_record() -> None:
    m = parse_message(
        {"template": "request_call", "params": {"subject": "cf_1"}, "refs": [{"type": "conflict", "id": "cf_1"}]}
    )
    assert MessageContent.from_record(m.record()) == m
    t = parse_message({"text": "  hello  "})
    assert t.text == "hello" and MessageContent.from_record(t.record()) == t
