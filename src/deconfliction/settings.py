"""Settings, read from the environment when the application or the CLI starts (never at import).

Every setting is declared once, as a field of ``Settings`` below: its type (with its bounds), its default
and, in the docstring under it, what it means. ``Settings.from_env`` reads ``DECONFLICTION_<FIELD NAME>``
for each field (and ``DECONFLICTION_<LIMIT NAME>`` for each field of ``Limits``), validates them all with
pydantic and refuses a bad value naming its variable. docs/settings.md documents every one of them; a test
(tests/api/test_docs_complete.py) fails when one is missing there or its default differs.

Adding a setting: add a field here with its type, default and docstring (a ``field_validator`` when a
type alone cannot say what a good value is), and a row in docs/settings.md. Nothing else reads the
environment.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from deconfliction.domain.acknowledgement import AcknowledgementPolicy
from deconfliction.domain.limits import Limits
from deconfliction.domain.notification import EscalationPolicy
from deconfliction.domain.policy import POLICY_SECTIONS, SeparationPolicy
from deconfliction.domain.tactical.flat import EarthModel
from deconfliction.service.egress import Network, parse_networks

DEFAULT_DATABASE_URL = "sqlite:///var/deconfliction.db"

if TYPE_CHECKING:
    from collections.abc import Callable

    from deconfliction.service.runtime import Runtime
    from deconfliction.store.ports import Store

ENV_PREFIX = "DECONFLICTION_"

Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
"""A number of seconds above 0 (not nan, not inf)."""
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def env_name(field_name: str) -> str:
    """The environment variable of a setting (or of a limit): ``port`` -> ``DECONFLICTION_PORT``."""
    return f"{ENV_PREFIX}{field_name.upper()}"


LIMIT_NAMES = tuple(Limits.__dataclass_fields__)


def _optional_text(value: Any) -> Any:
    """An empty variable is the same as an unset one."""
    return None if isinstance(value, str) and not value.strip() else value


def _origin_list(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(value.replace(",", " ").split()) or None
    return value


class Settings(BaseModel):
    """Every DECONFLICTION_* setting (see the module's docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    database_url: str = DEFAULT_DATABASE_URL
    """DECONFLICTION_DATABASE_URL: sqlite:///path.db (default var/deconfliction.db) or postgresql://..."""
    sqlite_synchronous: Literal["FULL", "NORMAL", "EXTRA"] = "FULL"
    """DECONFLICTION_SQLITE_SYNCHRONOUS: FULL (default: durable across power loss), NORMAL or EXTRA."""
    host: str = "127.0.0.1"
    """DECONFLICTION_HOST: the interface `deconflict serve` listens on."""
    port: Port = 8000
    """DECONFLICTION_PORT: the port `deconflict serve` listens on (1-65535)."""
    policy_file: str | None = None
    """DECONFLICTION_POLICY_FILE: JSON separation rules, e.g. {"air-air": {"horizontal_m": 5000}}."""
    log_format: Literal["text", "json"] = "text"
    """DECONFLICTION_LOG_FORMAT: text (one readable line per record) or json (one JSON object per line)."""
    log_level: LogLevel = "INFO"
    """DECONFLICTION_LOG_LEVEL: DEBUG, INFO, WARNING, ERROR or CRITICAL (any case)."""
    access_log: bool = True
    """DECONFLICTION_ACCESS_LOG: one line per HTTP request (method, route, status, duration, party)."""
    tactical_cycle_s: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0
    """DECONFLICTION_TACTICAL_CYCLE_S: seconds between tactical detection cycles, 0 for none (docs/tactical.md)."""
    track_expiry_s: Seconds = 30.0
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
    smtp_port: Port = 25
    """DECONFLICTION_SMTP_PORT"""
    smtp_from: str = "deconfliction@localhost"
    """DECONFLICTION_SMTP_FROM: the From address of notification e-mails."""
    tile_url: str | None = None
    """DECONFLICTION_TILE_URL: the web map's raster tiles, e.g. https://tiles.example.org/{z}/{x}/{y}.png (unset:
    the Natural Earth borders shipped with the package, so the map works with no network)."""
    map_pmtiles: str | None = None
    """DECONFLICTION_MAP_PMTILES: a PMTiles vector-tile extract on this server's disk (a Protomaps basemap build cut
    to the deployment's area) that the web map draws for street scale, served by the service itself at
    /map/tiles.pmtiles with range requests (unset: the built-in theatre basemap only; docs/web.md)."""
    exercise_start: datetime | None = None
    """DECONFLICTION_EXERCISE_START: RFC 3339 scenario time at which an exercise starts (unset: live service;
    docs/exercise.md)."""
    exercise_speed: Seconds = 1.0
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
    header_timeout_s: Seconds = 10.0
    """DECONFLICTION_HEADER_TIMEOUT_S: a request's headers must arrive within this (docs/security.md)."""
    body_timeout_s: Seconds = 120.0
    """DECONFLICTION_BODY_TIMEOUT_S: a request's body must arrive within this once its headers are in (a
    connection that sends nothing is closed after it too)."""
    cors_origins: tuple[str, ...] | None = None
    """DECONFLICTION_CORS_ORIGINS: space-separated origins whose pages may call the API (unset: none)."""
    stream_poll_s: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 10.0
    """DECONFLICTION_STREAM_POLL_S: the streams' safety net: how often each process checks for a commit that
    no wake-up announced (one query per process, docs/notifications.md); without wake-ups, how often each
    stream reads."""
    stream_wakeups: bool = True
    """DECONFLICTION_STREAM_WAKEUPS: true (default): streams are woken by commits (PostgreSQL LISTEN/NOTIFY,
    SQLite a wake-up file); false: each stream polls every DECONFLICTION_STREAM_POLL_S (for a connection
    pooler that drops LISTEN)."""
    webhook_allow_networks: tuple[Network, ...] | None = None
    """DECONFLICTION_WEBHOOK_ALLOW_NETWORKS: CIDR networks (comma-separated) a webhook may point into
    besides public addresses; loopback, link-local and private ones are refused otherwise (docs/security.md)."""
    dss_public_keys: tuple[str, ...] | None = None
    """DECONFLICTION_DSS_PUBLIC_KEYS: comma-separated PEM files of the public keys that sign USS access tokens
    (RS256); unset: the ASTM F3548 DSS interface at /dss/v1 is off (docs/dss.md)."""
    dss_audiences: tuple[str, ...] | None = None
    """DECONFLICTION_DSS_AUDIENCES: comma-separated audiences (``aud``) a DSS access token must name, usually
    the service's host name."""
    dss_allow_http_base_urls: bool = False
    """DECONFLICTION_DSS_ALLOW_HTTP_BASE_URLS: 1 lets USSs register plain-http ``uss_base_url``s (tests and
    local set-ups); default off: refused with 400, as the reference DSS."""
    limits: Limits = Field(default_factory=Limits)
    """DECONFLICTION_MAX_VERTICES, ..._MAX_AREA_KM2, ... one variable per field of ``Limits``, named after it."""

    # ------------------------------------------------------------------------------------------ validation

    _optional = field_validator(
        "policy_file",
        "tactical_policy_file",
        "sbs_feeds",
        "cot_udp",
        "cot_tcp",
        "smtp_host",
        "tile_url",
        "map_pmtiles",
        "tls_cert_file",
        "tls_key_file",
        "tls_client_ca_file",
        "secrets_key_file",
        mode="before",
    )(_optional_text)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("use sqlite:///path.db or postgresql://user@host:port/dbname")
        return value

    @field_validator("sqlite_synchronous", "log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("exercise_start", mode="before")
    @classmethod
    def _rfc3339(cls, value: Any) -> Any:
        value = _optional_text(value)
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError("not an RFC 3339 time (e.g. 2026-11-23T06:00:00Z)") from None
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError("no UTC offset; add Z or +hh:mm")
            return value.astimezone(UTC)
        return value

    @field_validator("webhook_allow_networks", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_networks(value, env_name("webhook_allow_networks")) or None
        return value

    @field_validator("dss_public_keys", "dss_audiences", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip()) or None
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        """Each an origin exactly (scheme://host[:port]); '*' is refused."""
        value = _origin_list(value)
        for origin in value or ():
            parts = urlsplit(origin)
            if parts.scheme not in ("https", "http") or not parts.netloc or parts.path or parts.query or "*" in origin:
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path, no wildcard)")
        return value

    @field_validator("limits")
    @classmethod
    def _limits(cls, value: Limits) -> Limits:
        for name in LIMIT_NAMES:
            number = getattr(value, name)
            if not math.isfinite(number) or (name != "min_altitude_m" and number <= 0):
                raise ValueError(f"{env_name(name)}={number!r} must be a finite number above 0")
        if value.min_altitude_m >= value.max_altitude_m:
            raise ValueError(f"{env_name('min_altitude_m')} must be below {env_name('max_altitude_m')}")
        return value

    @model_validator(mode="after")
    def _exercise(self) -> Settings:
        if "exercise_speed" in self.model_fields_set and self.exercise_start is None:
            raise ValueError(
                f"{env_name('exercise_speed')} is set but {env_name('exercise_start')} is not: "
                "an exercise needs its scenario start time"
            )
        return self

    # ------------------------------------------------------------------------------------- the environment

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from ``env`` (default: the process's environment). A bad value raises ValueError
        naming the variable, the value and the reason, for every bad variable at once."""
        import os

        env = os.environ if env is None else env
        given = {k: v for k, v in env.items() if k.startswith(ENV_PREFIX) and v.strip()}  # empty is unset
        raw: dict[str, Any] = {}
        for name in cls.model_fields:
            if name != "limits" and env_name(name) in given:
                raw[name] = given[env_name(name)]
        limits = {name: given[env_name(name)] for name in LIMIT_NAMES if env_name(name) in given}
        if limits:
            raw["limits"] = limits
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ValueError(_named(exc, env)) from None

    @classmethod
    def documented_names(cls) -> list[str]:
        """Every environment variable the service reads."""
        return sorted([env_name(n) for n in cls.model_fields if n != "limits"] + [env_name(n) for n in LIMIT_NAMES])

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every variable's default value (what docs/settings.md shows)."""
        base = cls()
        out = {env_name(n): getattr(base, n) for n in cls.model_fields if n != "limits"}
        out |= {env_name(n): getattr(base.limits, n) for n in LIMIT_NAMES}
        return out

    # -------------------------------------------------------------------------------- what they configure

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
            webhook_allow=self.webhook_allow_networks or (),
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


def _named(exc: ValidationError, env: Mapping[str, str]) -> str:
    """pydantic's errors as ``VARIABLE='value': reason`` lines."""
    lines = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        message = str(error["msg"]).removeprefix("Value error, ")
        if not loc or loc == ["limits"]:  # a check across settings names its variables itself
            lines.append(message)
            continue
        var = env_name(loc[1] if loc[0] == "limits" and len(loc) > 1 else loc[0])
        if var in env:
            lines.append(f"{var}={env[var]!r}: {message}")
        else:
            lines.append(f"{var}: {message}")
    return "; ".join(lines)
