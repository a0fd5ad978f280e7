"""Settings, read from the environment when the application or the CLI starts (never at import).

Every setting is documented in docs/settings.md; a test fails when one is not.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from deconfliction.domain.acknowledgement import AcknowledgementPolicy
from deconfliction.domain.limits import Limits
from deconfliction.domain.notification import EscalationPolicy
from deconfliction.domain.policy import POLICY_SECTIONS, SeparationPolicy
from deconfliction.domain.tactical_flat import EARTH_MODELS, EarthModel

DEFAULT_DATABASE_URL = "sqlite:///var/deconfliction.db"

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from deconfliction.service.runtime import Runtime
    from deconfliction.store.ports import Store

ENV_PREFIX = "DECONFLICTION_"

_LIMIT_ENV = {f"{ENV_PREFIX}{f.name.upper()}": f.name for f in fields(Limits)}
_TACTICAL_ENV = (
    "TACTICAL_CYCLE_S",
    "TRACK_EXPIRY_S",
    "TACTICAL_POLICY_FILE",
    "TACTICAL_EARTH_MODEL",
    "SBS_FEEDS",
    "COT_UDP",
    "COT_TCP",
)


def _earth_model(env: Mapping[str, str], default: EarthModel) -> EarthModel:
    raw = env.get(f"{ENV_PREFIX}TACTICAL_EARTH_MODEL", default)
    for model in EARTH_MODELS:
        if raw == model:
            return model
    raise ValueError(f"{ENV_PREFIX}TACTICAL_EARTH_MODEL={raw!r} is not one of {', '.join(EARTH_MODELS)}")


def _float_env(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(f"{ENV_PREFIX}{name}")
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}{name}={raw!r} is not a number") from None


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float_env(env, name, default)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{ENV_PREFIX}{name}={env.get(ENV_PREFIX + name)!r} must be a number of seconds above 0")
    return value


def _bool_env(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(f"{ENV_PREFIX}{name}")
    if raw is None:
        return default
    if raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if raw.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{ENV_PREFIX}{name}={raw!r} is not true or false")


def _origins(env: Mapping[str, str]) -> tuple[str, ...] | None:
    """DECONFLICTION_CORS_ORIGINS: each an origin exactly (scheme://host[:port]); '*' is refused."""
    out = []
    for origin in env.get(f"{ENV_PREFIX}CORS_ORIGINS", "").replace(",", " ").split():
        parts = urlsplit(origin)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.path or parts.query or "*" in origin:
            raise ValueError(
                f"{ENV_PREFIX}CORS_ORIGINS: {origin!r} is not an origin (scheme://host[:port], no path, no wildcard)"
            )
        out.append(origin)
    return tuple(out) or None


def _exercise(env: Mapping[str, str]) -> tuple[datetime | None, float]:
    """DECONFLICTION_EXERCISE_START (RFC 3339 with an offset) and DECONFLICTION_EXERCISE_SPEED (> 0)."""
    start_var, speed_var = f"{ENV_PREFIX}EXERCISE_START", f"{ENV_PREFIX}EXERCISE_SPEED"
    raw_start, raw_speed = env.get(start_var, "").strip(), env.get(speed_var, "").strip()
    start = None
    if raw_start:
        try:
            start = datetime.fromisoformat(raw_start)
        except ValueError:
            raise ValueError(f"{start_var}={raw_start!r} is not an RFC 3339 time (e.g. 2026-11-23T06:00:00Z)") from None
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"{start_var}={raw_start!r} has no UTC offset; add Z or +hh:mm")
        start = start.astimezone(UTC)
    speed = 1.0
    if raw_speed:
        try:
            speed = float(raw_speed)
        except ValueError:
            raise ValueError(f"{speed_var}={raw_speed!r} is not a number") from None
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(
                f"{speed_var}={raw_speed!r} must be a number above 0 (1: real time, 60: a minute a second)"
            )
        if start is None:
            raise ValueError(f"{speed_var} is set but {start_var} is not: an exercise needs its scenario start time")
    return start, speed


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    """DECONFLICTION_DATABASE_URL: sqlite:///path.db (default var/deconfliction.db) or postgresql://..."""
    sqlite_synchronous: str = "FULL"
    """DECONFLICTION_SQLITE_SYNCHRONOUS: FULL (default: durable across power loss), NORMAL or EXTRA."""
    host: str = "127.0.0.1"
    """DECONFLICTION_HOST"""
    port: int = 8000
    """DECONFLICTION_PORT"""
    policy_file: str | None = None
    """DECONFLICTION_POLICY_FILE: JSON separation rules, e.g. {"air-air": {"horizontal_m": 5000}}."""
    tactical_cycle_s: float = 1.0
    """DECONFLICTION_TACTICAL_CYCLE_S: seconds between tactical detection cycles (docs/tactical.md)."""
    track_expiry_s: float = 30.0
    """DECONFLICTION_TRACK_EXPIRY_S: a track with no report for this long is dropped."""
    tactical_policy_file: str | None = None
    """DECONFLICTION_TACTICAL_POLICY_FILE: JSON tactical minima per pair of parties (docs/tactical.md)."""
    tactical_earth_model: EarthModel = "wgs84"
    """DECONFLICTION_TACTICAL_EARTH_MODEL: wgs84 (exact, default) or flat (BlueSky's pair test, docs/tactical.md)."""
    sbs_feeds: str | None = None
    """DECONFLICTION_SBS_FEEDS: host:port=Party[;...] SBS-1 feeds (dump1090 port 30003) to connect to."""
    cot_udp: str | None = None
    """DECONFLICTION_COT_UDP: host:port=Party[;...] addresses to receive Cursor-on-Target datagrams on."""
    cot_tcp: str | None = None
    """DECONFLICTION_COT_TCP: host:port=Party[;...] addresses to accept Cursor-on-Target streams on."""
    smtp_host: str | None = None
    """DECONFLICTION_SMTP_HOST: SMTP server for e-mail notifications (unset: e-mail endpoints fail, retried)."""
    smtp_port: int = 25
    """DECONFLICTION_SMTP_PORT"""
    smtp_from: str = "deconfliction@localhost"
    """DECONFLICTION_SMTP_FROM: the From address of notification e-mails."""
    tile_url: str | None = None
    """DECONFLICTION_TILE_URL: the web map's raster tiles, e.g. https://tiles.example.org/{z}/{x}/{y}.png (unset:
    the Natural Earth borders shipped with the package, so the map works with no network)."""
    exercise_start: datetime | None = None
    """DECONFLICTION_EXERCISE_START: RFC 3339 scenario time at which an exercise starts (unset: live service;
    docs/exercise.md)."""
    exercise_speed: float = 1.0
    """DECONFLICTION_EXERCISE_SPEED: scenario seconds per real second in an exercise (60: a minute a second)."""
    tls_cert_file: str | None = None
    """DECONFLICTION_TLS_CERT_FILE: PEM certificate (chain) to serve HTTPS with; needs the key file too."""
    tls_key_file: str | None = None
    """DECONFLICTION_TLS_KEY_FILE: PEM private key of that certificate (unencrypted; readable by the service only)."""
    tls_client_ca_file: str | None = None
    """DECONFLICTION_TLS_CLIENT_CA_FILE: PEM CA certificate(s); when set, the server asks callers for a client
    certificate signed by one of them (docs/security.md, Mutual TLS)."""
    secrets_key_file: str | None = None
    """DECONFLICTION_SECRETS_KEY_FILE: a file of 32+ random bytes, kept outside the database, that seals the
    webhook secrets stored in it (docs/security.md). Unset: they are stored in clear."""
    header_timeout_s: float | None = None
    """DECONFLICTION_HEADER_TIMEOUT_S: a request's headers must arrive within this (docs/security.md);
    unset: no deadline of the service's own."""
    body_timeout_s: float | None = None
    """DECONFLICTION_BODY_TIMEOUT_S: a request's body must arrive within this once its headers are in."""
    cors_origins: tuple[str, ...] | None = None
    """DECONFLICTION_CORS_ORIGINS: space-separated origins whose pages may call the API (unset: none)."""
    stream_poll_s: float = 10.0
    """DECONFLICTION_STREAM_POLL_S: the streams' safety net: how often each process checks for a commit that
    no wake-up announced (one query per process, docs/notifications.md); without wake-ups, how often each
    stream reads."""
    stream_wakeups: bool = True
    """DECONFLICTION_STREAM_WAKEUPS: true (default): streams are woken by commits (PostgreSQL LISTEN/NOTIFY,
    SQLite a wake-up file); false: each stream polls every DECONFLICTION_STREAM_POLL_S (for a connection
    pooler that drops LISTEN)."""
    limits: Limits = field(default_factory=Limits)
    """DECONFLICTION_MAX_VERTICES, ..._MAX_AREA_KM2, ..._MAX_WINDOW_S, ..._MAX_VOLUMES, ..._MAX_BODY_BYTES,
    ..._MIN_ALTITUDE_M, ..._MAX_ALTITUDE_M, ..._POLE_MARGIN_DEG, ..._PAGE_SIZE_MAX"""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        base = cls()
        limits = base.limits
        for var, name in _LIMIT_ENV.items():
            if var in env:
                current = getattr(limits, name)
                try:
                    value = type(current)(env[var])
                except ValueError:
                    raise ValueError(f"{var}={env[var]!r} is not a {type(current).__name__}") from None
                limits = replace(limits, **{name: value})
        exercise_start, exercise_speed = _exercise(env)
        return cls(
            database_url=env.get(f"{ENV_PREFIX}DATABASE_URL", base.database_url),
            sqlite_synchronous=env.get(f"{ENV_PREFIX}SQLITE_SYNCHRONOUS", base.sqlite_synchronous),
            host=env.get(f"{ENV_PREFIX}HOST", base.host),
            port=int(env.get(f"{ENV_PREFIX}PORT", base.port)),
            policy_file=env.get(f"{ENV_PREFIX}POLICY_FILE", base.policy_file),
            tactical_cycle_s=_float_env(env, "TACTICAL_CYCLE_S", base.tactical_cycle_s),
            track_expiry_s=_float_env(env, "TRACK_EXPIRY_S", base.track_expiry_s),
            tactical_policy_file=env.get(f"{ENV_PREFIX}TACTICAL_POLICY_FILE", base.tactical_policy_file),
            tactical_earth_model=_earth_model(env, base.tactical_earth_model),
            sbs_feeds=env.get(f"{ENV_PREFIX}SBS_FEEDS", base.sbs_feeds),
            cot_udp=env.get(f"{ENV_PREFIX}COT_UDP", base.cot_udp),
            cot_tcp=env.get(f"{ENV_PREFIX}COT_TCP", base.cot_tcp),
            smtp_host=env.get(f"{ENV_PREFIX}SMTP_HOST", base.smtp_host),
            smtp_port=int(env.get(f"{ENV_PREFIX}SMTP_PORT", base.smtp_port)),
            smtp_from=env.get(f"{ENV_PREFIX}SMTP_FROM", base.smtp_from),
            tile_url=env.get(f"{ENV_PREFIX}TILE_URL", base.tile_url) or None,
            exercise_start=exercise_start,
            exercise_speed=exercise_speed,
            tls_cert_file=env.get(f"{ENV_PREFIX}TLS_CERT_FILE") or None,
            tls_key_file=env.get(f"{ENV_PREFIX}TLS_KEY_FILE") or None,
            tls_client_ca_file=env.get(f"{ENV_PREFIX}TLS_CLIENT_CA_FILE") or None,
            secrets_key_file=env.get(f"{ENV_PREFIX}SECRETS_KEY_FILE") or None,
            header_timeout_s=_positive(env, "HEADER_TIMEOUT_S", 1.0)
            if f"{ENV_PREFIX}HEADER_TIMEOUT_S" in env
            else None,
            body_timeout_s=_positive(env, "BODY_TIMEOUT_S", 1.0) if f"{ENV_PREFIX}BODY_TIMEOUT_S" in env else None,
            cors_origins=_origins(env),
            stream_poll_s=_positive(env, "STREAM_POLL_S", base.stream_poll_s),
            stream_wakeups=_bool_env(env, "STREAM_WAKEUPS", base.stream_wakeups),
            limits=limits,
        )

    def policy_document(self) -> dict[str, Any]:
        """The policy file's JSON object (empty when unset): separation rules keyed by pair of kinds, and
        the sections named in ``POLICY_SECTIONS`` (docs/policy.md)."""
        if not self.policy_file:
            return {}
        raw = json.loads(Path(self.policy_file).read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError(f"{ENV_PREFIX}POLICY_FILE {self.policy_file}: expected a JSON object")
        return raw

    def policy(self) -> SeparationPolicy:
        raw = self.policy_document()
        return SeparationPolicy.from_mapping({k: v for k, v in raw.items() if k not in POLICY_SECTIONS})

    def runtime(self, store: Store, clock: Callable[[], datetime] | None = None) -> Runtime:
        """The runtime every entry point (server, CLI, test servers) builds from these settings: the
        separation rules, the policy file's sections, the limits, and ``clock`` (the exercise's scenario
        clock, or the real one)."""
        from deconfliction.service.runtime import Runtime, utcnow

        return Runtime(
            store,
            self.policy(),
            self.limits,
            clock=clock or utcnow,
            escalation=self.escalation(),
            acknowledgement=self.acknowledgement(),
            secrets_key=self.secrets_key(),
            stream_poll_s=self.stream_poll_s,
            stream_wakeups=self.stream_wakeups,
        )

    def secrets_key(self) -> bytes | None:
        """The key that seals webhook secrets, from DECONFLICTION_SECRETS_KEY_FILE; a bad file stops the start."""
        if not self.secrets_key_file:
            return None
        from deconfliction.service.sealed import load_key

        return load_key(self.secrets_key_file, f"{ENV_PREFIX}SECRETS_KEY_FILE")

    def escalation(self) -> EscalationPolicy:
        """The policy file's ``escalation`` section (defaults when absent): how long each step of an
        on-call ladder has. A bad member stops the start, named (``escalation.floor_s``)."""
        return EscalationPolicy.from_mapping(self.policy_document().get("escalation", {}))

    def acknowledgement(self) -> AcknowledgementPolicy:
        """The policy file's ``acknowledgement`` section (defaults when absent); refused by name when wrong."""
        return AcknowledgementPolicy.from_mapping(self.policy_document().get("acknowledgement"))

    @staticmethod
    def documented_names() -> list[str]:
        """Every environment variable the service reads."""
        return sorted(
            [f"{ENV_PREFIX}{n}" for n in ("DATABASE_URL", "SQLITE_SYNCHRONOUS", "HOST", "PORT", "POLICY_FILE")]
            + [f"{ENV_PREFIX}{n}" for n in _TACTICAL_ENV]
            + [f"{ENV_PREFIX}{n}" for n in ("SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "TILE_URL")]
            + [f"{ENV_PREFIX}{n}" for n in ("EXERCISE_START", "EXERCISE_SPEED")]
            + [f"{ENV_PREFIX}{n}" for n in ("TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CLIENT_CA_FILE")]
            + [f"{ENV_PREFIX}{n}" for n in ("HEADER_TIMEOUT_S", "BODY_TIMEOUT_S", "CORS_ORIGINS", "SECRETS_KEY_FILE")]
            + [f"{ENV_PREFIX}{n}" for n in ("STREAM_POLL_S", "STREAM_WAKEUPS")]
            + list(_LIMIT_ENV)
        )
