"""The hotline: messages between parties, in threads, each acknowledged like any notification; common
messages as templates rendered in each recipient's language (English, Russian, Arabic).

A message is free text, or a template key with its parameters, so the words a recipient reads are a
vetted translation rather than a machine's guess; the sender sees its own language, each recipient its
own. Messages may name what they are about (an operation, a conflict, a zone, a site, a line) by id.

**Template values are values, not text.** A template's ``time``, ``place`` and ``position`` parameters are
checked and kept as values (an instant or a time of day in UTC, a WGS84 position) and written out in each
reader's language and format (``render_value``): an English reader reads ``14:00 UTC on 6 December 2026``
and ``35.4012° N, 40.1234° E``, a Russian reader ``14:00 UTC 6 декабря 2026 г.`` and ``35,4012° с. ш.,
40,1234° в. д.`` (decimal comma), an Arabic reader ``14:00 UTC 6 ديسمبر 2026`` and ``35.4012° شمالاً،
40.1234° شرقاً``. A ``place`` that is not a position is a name (a bridge, a town) and is kept as given;
other parameters (ids, names) are kept as given.

**A free text's language is its own.** A free-text message is labelled with the language it is written in:
the ``language`` its sender gives, else the script of the text (Cyrillic: ``ru``, Arabic: ``ar``, Latin:
``en``), else the sender's preference; never the reader's.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
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
    "not_our_unit": {
        "en": "{subject}, seen at {position} at {time}, is not our unit. We have no one there.",
        "ru": "{subject}, обнаруженный в точке {position} в {time}, — не наше подразделение. У нас там никого нет.",
        "ar": "{subject}، الذي رُصد عند {position} في {time}، ليس وحدة تابعة لنا. ليس لدينا أحد هناك.",
    },
}
"""Template key -> language -> text with ``{parameter}`` fields. ``time``, ``place`` and ``position`` are
values written in the reader's language and format (``render_value``); other parameters (names, ids) are
inserted as given, never translated."""

PARAM_KINDS: dict[str, str] = {"time": "time", "place": "place", "position": "position"}
"""Parameters that are values: how each is read and written. Any other parameter is text."""

_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "ru": [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ],
    "ar": [
        "يناير",
        "فبراير",
        "مارس",
        "أبريل",
        "مايو",
        "يونيو",
        "يوليو",
        "أغسطس",
        "سبتمبر",
        "أكتوبر",
        "نوفمبر",
        "ديسمبر",
    ],
}
_HEMISPHERES = {
    "en": ("N", "S", "E", "W"),
    "ru": ("с. ш.", "ю. ш.", "в. д.", "з. д."),
    "ar": ("شمالاً", "جنوباً", "شرقاً", "غرباً"),
}
_LIST_COMMA = {"en": ", ", "ru": ", ", "ar": "، "}
_DECIMAL = {"en": ".", "ru": ",", "ar": "."}
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$")
_POSITION = re.compile(r"^\s*([+-]?\d{1,2}(?:\.\d{1,7})?)\s*,\s*([+-]?\d{1,3}(?:\.\d{1,7})?)\s*$")


def parse_value(kind: str, raw: str, where: str) -> str:
    """A template value checked and kept in its canonical form: a time as ``YYYY-MM-DDTHH:MM:SSZ`` or, for
    a time of day, ``HH:MMZ`` (``HH:MM:SSZ`` with seconds), in UTC; a position as ``lat,lon`` (decimal
    degrees, the digits as given); a place as a position when it reads as one, else its name as given."""
    text = raw.strip()
    if kind == "time":
        day = _TIME_OF_DAY.match(text)
        if day:
            hh, mm, ss, off = day.groups()
            minutes = int(hh) * 60 + int(mm)
            if off != "Z":
                sign = 1 if off[0] == "+" else -1
                minutes -= sign * (int(off[1:3]) * 60 + int(off[4:6]))
            minutes %= 24 * 60
            return f"{minutes // 60:02d}:{minutes % 60:02d}" + (f":{ss}" if ss else "") + "Z"
        try:
            when = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is None or when.tzinfo is None or "T" not in text.upper():
            raise InvalidInput.one(
                where,
                "invalid_time",
                "an RFC 3339 time with an offset (2026-12-06T14:00:00Z) or a time of day (14:00Z)",
            )
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind in ("position", "place"):
        found = _POSITION.match(text)
        if found:
            lat, lon = float(found.group(1)), float(found.group(2))
            if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
                raise InvalidInput.one(where, "out_of_range", "latitude in [-90, 90], longitude in [-180, 180]")
            return f"{found.group(1).lstrip('+')},{found.group(2).lstrip('+')}"
        if kind == "position":
            raise InvalidInput.one(
                where, "invalid_position", "a position is 'lat, lon' in decimal degrees (35.4012, 40.1234)"
            )
    if not text:
        raise InvalidInput.one(where, "invalid_value", "empty")
    return text


def _number(text: str, language: str) -> str:
    return text.lstrip("-").replace(".", _DECIMAL.get(language, "."))


def render_value(kind: str | None, value: str, language: str) -> str:
    """A canonical template value (``parse_value``) in ``language``'s words and number format."""
    lang = language if language in LANGUAGES else "en"
    if kind == "time":
        if len(value) <= 9:  # a time of day: HH:MMZ or HH:MM:SSZ
            return f"{value[:-1]} UTC"
        when = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
        clock = when.strftime("%H:%M") + (when.strftime(":%S") if when.second else "")
        month = _MONTHS[lang][when.month - 1]
        date = f"{when.day} {month} {when.year}"
        return {"en": f"{clock} UTC on {date}", "ru": f"{clock} UTC {date} г.", "ar": f"{clock} UTC {date}"}[lang]
    if kind in ("position", "place") and _POSITION.match(value):
        lat, lon = value.split(",")
        north, south, east, west = _HEMISPHERES[lang]
        ns = south if lat.startswith("-") and float(lat) != 0.0 else north
        ew = west if lon.startswith("-") and float(lon) != 0.0 else east
        return f"{_number(lat, lang)}° {ns}{_LIST_COMMA[lang]}{_number(lon, lang)}° {ew}"
    return value


def template_fields(key: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(TEMPLATES[key]["en"]) if f}


_SCRIPTS = (
    ("ru", re.compile(r"[\u0400-\u04FF]")),
    ("ar", re.compile(r"[\u0600-\u06FF\u0750-\u077F]")),
    ("en", re.compile(r"[A-Za-z]")),
)


def script_language(text: str) -> str | None:
    """The language of the script most of the text's letters are in (Cyrillic ``ru``, Arabic ``ar``, Latin
    ``en``), or None for a text without letters."""
    counts = {lang: len(pattern.findall(text)) for lang, pattern in _SCRIPTS}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else None


@dataclass(frozen=True)
class MessageContent:
    text: str | None = None
    template: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    refs: tuple[tuple[str, str], ...] = ()
    """(type, id) of what the message is about."""
    language: str | None = None
    """Of a free text: the language it is written in (a template is read in each reader's)."""

    def render(self, language: str) -> str:
        if self.template is None:
            return self.text or ""
        texts = TEMPLATES[self.template]
        lang = language if language in texts else "en"
        values = {k: render_value(PARAM_KINDS.get(k), v, lang) for k, v in self.params.items()}
        return texts[lang].format(**values)

    def language_for(self, reader_language: str) -> str:
        """The language the reader reads it in: a template's is the reader's, a text's its own."""
        if self.template is not None:
            return reader_language if reader_language in LANGUAGES else "en"
        return self.language or "en"

    def written_in(self, fallback: str) -> MessageContent:
        """A free text labelled with its language: as given, else by its script, else ``fallback``."""
        if self.template is not None or self.language is not None:
            return self
        return replace(self, language=script_language(self.text or "") or fallback)

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"refs": [{"type": t, "id": i} for t, i in self.refs]}
        if self.template is not None:
            out |= {"template": self.template, "params": dict(self.params)}
        else:
            out["text"] = self.text
            if self.language is not None:
                out["language"] = self.language
        return out

    @classmethod
    def from_record(cls, r: Mapping[str, Any]) -> MessageContent:
        refs = tuple((x["type"], x["id"]) for x in r.get("refs", ()))
        return cls(r.get("text"), r.get("template"), dict(r.get("params", {})), refs, r.get("language"))


def parse_message(obj: Any, where: str = "message") -> MessageContent:
    """``{"text": "..."}`` or ``{"template": key, "params": {...}}``, optionally with ``refs``."""
    if not isinstance(obj, Mapping):
        raise InvalidInput.one(where, "invalid_value", "a message is an object with text or template")
    errors: list[FieldError] = []
    errors += [
        FieldError(f"{where}.{k}", "unknown_field", f"unknown member {k!r}")
        for k in obj
        if k not in ("text", "template", "params", "refs", "language")
    ]
    text, key, params = obj.get("text"), obj.get("template"), obj.get("params", {})
    language = obj.get("language")
    if language is not None and (key is not None or language not in LANGUAGES):
        reason = "a template is read in each reader's language" if key is not None else f"one of {', '.join(LANGUAGES)}"
        errors.append(FieldError(f"{where}.language", "unknown_language", f"the language of a free text: {reason}"))
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
            values: dict[str, str] = {}
            for name in sorted(need & given):
                try:
                    values[name] = parse_value(PARAM_KINDS.get(name, "text"), params[name], f"{where}.params.{name}")
                except InvalidInput as exc:
                    errors += exc.errors
            params = values
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
    return MessageContent(str(text).strip(), None, {}, tuple(parsed_refs), language)


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
