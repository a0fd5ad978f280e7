"""The hotline: messages between parties, in threads, each acknowledged like any notification; common
messages as templates rendered in each recipient's language (English, Russian, Arabic).

A message is free text, or a template key with its parameters, so the words a recipient reads are a
vetted translation rather than a machine's guess; the sender sees its own language, each recipient its
own. Messages may name what they are about (an operation, a conflict, a zone, a site, a line) by id.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deconfliction.errors import FieldError, InvalidInput

LANGUAGES = ("en", "ru", "ar")
REF_TYPES = ("operation", "conflict", "zone", "site", "line")
MAX_TEXT = 4000
MAX_PARTICIPANTS = 10

TEMPLATES: dict[str, dict[str, str]] = {
    "conflict_seen": {
        "en": "We have seen conflict {conflict} and are reviewing our plan. We will call back by {time}.",
        "ru": "Мы видим конфликт {conflict} и пересматриваем наш план. Мы перезвоним до {time}.",
        "ar": "لقد رأينا التعارض {conflict} ونقوم بمراجعة خطتنا. سنعاود الاتصال قبل {time}.",
    },
    "request_call": {
        "en": "Please call us about {subject} as soon as possible.",
        "ru": "Пожалуйста, свяжитесь с нами по поводу {subject} как можно скорее.",
        "ar": "يرجى الاتصال بنا بشأن {subject} في أقرب وقت ممكن.",
    },
    "hold_position": {
        "en": "Please hold your movement at {place} until further notice.",
        "ru": "Пожалуйста, остановите движение в {place} до дальнейшего уведомления.",
        "ar": "يرجى إيقاف تحرككم عند {place} حتى إشعار آخر.",
    },
    "route_confirmed": {
        "en": "Your route {subject} is confirmed for {time}.",
        "ru": "Ваш маршрут {subject} подтверждён на {time}.",
        "ar": "تم تأكيد مساركم {subject} في {time}.",
    },
    "humanitarian_movement": {
        "en": "A humanitarian convoy will pass {place} at {time}. Please confirm receipt.",
        "ru": "Гуманитарный конвой пройдёт {place} в {time}. Пожалуйста, подтвердите получение.",
        "ar": "ستمر قافلة إنسانية عبر {place} في {time}. يرجى تأكيد الاستلام.",
    },
    "protected_site_nearby": {
        "en": "Protected site {subject} ({category}) is within your operation area. Please avoid it.",
        "ru": "Охраняемый объект {subject} ({category}) находится в районе вашей операции. Пожалуйста, избегайте его.",
        "ar": "الموقع المحمي {subject} ({category}) يقع ضمن منطقة عمليتكم. يرجى تجنبه.",
    },
}
"""Template key -> language -> text with ``{parameter}`` fields. Parameters are inserted as given (names,
ids, times), never translated."""


def template_fields(key: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(TEMPLATES[key]["en"]) if f}


@dataclass(frozen=True)
class MessageContent:
    text: str | None = None
    template: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    refs: tuple[tuple[str, str], ...] = ()
    """(type, id) of what the message is about."""

    def render(self, language: str) -> str:
        if self.template is None:
            return self.text or ""
        texts = TEMPLATES[self.template]
        return texts.get(language, texts["en"]).format(**self.params)

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"refs": [{"type": t, "id": i} for t, i in self.refs]}
        if self.template is not None:
            out |= {"template": self.template, "params": dict(self.params)}
        else:
            out["text"] = self.text
        return out

    @classmethod
    def from_record(cls, r: Mapping[str, Any]) -> MessageContent:
        refs = tuple((x["type"], x["id"]) for x in r.get("refs", ()))
        return cls(r.get("text"), r.get("template"), dict(r.get("params", {})), refs)


def parse_message(obj: Any, where: str = "message") -> MessageContent:
    """``{"text": "..."}`` or ``{"template": key, "params": {...}}``, optionally with ``refs``."""
    if not isinstance(obj, Mapping):
        raise InvalidInput.one(where, "invalid_value", "a message is an object with text or template")
    errors: list[FieldError] = []
    errors += [
        FieldError(f"{where}.{k}", "unknown_field", f"unknown member {k!r}")
        for k in obj
        if k not in ("text", "template", "params", "refs")
    ]
    text, key, params = obj.get("text"), obj.get("template"), obj.get("params", {})
    if (text is None) == (key is None):
        errors.append(FieldError(where, "text_or_template", "give either text or a template key, not both"))
    if text is not None and (not isinstance(text, str) or not 1 <= len(text.strip()) <= MAX_TEXT):
        errors.append(FieldError(f"{where}.text", "invalid_value", f"1 to {MAX_TEXT} characters"))
    if key is not None:
        if key not in TEMPLATES:
            errors.append(FieldError(f"{where}.template", "unknown_template", f"templates: {', '.join(TEMPLATES)}"))
        elif not isinstance(params, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 200 for k, v in params.items()
        ):
            errors.append(FieldError(f"{where}.params", "invalid_value", "parameter name -> text (up to 200)"))
        else:
            need, given = template_fields(key), set(params)
            errors += [FieldError(f"{where}.params.{f}", "missing_field", f"{key} needs {f}") for f in need - given]
            errors += [FieldError(f"{where}.params.{f}", "unknown_field", f"{key} has no {f}") for f in given - need]
    refs = obj.get("refs", [])
    parsed_refs = []
    if not isinstance(refs, list):
        errors.append(FieldError(f"{where}.refs", "invalid_value", "a list of {type, id}"))
    else:
        for i, r in enumerate(refs):
            if not isinstance(r, Mapping) or r.get("type") not in REF_TYPES or not isinstance(r.get("id"), str):
                errors.append(FieldError(f"{where}.refs[{i}]", "invalid_value", f"{{type: {'|'.join(REF_TYPES)}, id}}"))
            else:
                parsed_refs.append((str(r["type"]), str(r["id"])))
    if errors:
        raise InvalidInput(errors)
    if key is not None:
        return MessageContent(None, str(key), {str(k): str(v) for k, v in params.items()}, tuple(parsed_refs))
    return MessageContent(str(text).strip(), None, {}, tuple(parsed_refs))


def parse_language(raw: Any) -> str:
    if raw not in LANGUAGES:
        raise InvalidInput.one("language", "unknown_language", f"languages: {', '.join(LANGUAGES)}")
    return str(raw)


@dataclass(frozen=True)
class Thread:
    id: str
    subject: str
    participants: tuple[str, ...]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Message:
    id: str
    thread_id: str
    sender: str
    content: MessageContent
    created_at: datetime
