"""Settings, read from the environment when the application or the CLI starts (never at import).

Every setting is documented in docs/settings.md; a test fails when one is not.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from deconfliction.domain.limits import Limits
from deconfliction.domain.policy import SeparationPolicy

DEFAULT_DATABASE_URL = "sqlite:///var/deconfliction.db"

ENV_PREFIX = "DECONFLICTION_"

_LIMIT_ENV = {f"{ENV_PREFIX}{f.name.upper()}": f.name for f in fields(Limits)}


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
        return cls(
            database_url=env.get(f"{ENV_PREFIX}DATABASE_URL", base.database_url),
            sqlite_synchronous=env.get(f"{ENV_PREFIX}SQLITE_SYNCHRONOUS", base.sqlite_synchronous),
            host=env.get(f"{ENV_PREFIX}HOST", base.host),
            port=int(env.get(f"{ENV_PREFIX}PORT", base.port)),
            policy_file=env.get(f"{ENV_PREFIX}POLICY_FILE", base.policy_file),
            limits=limits,
        )

    def policy(self) -> SeparationPolicy:
        if not self.policy_file:
            return SeparationPolicy()
        raw = json.loads(Path(self.policy_file).read_text(encoding="utf-8"))
        return SeparationPolicy.from_mapping(raw)

    @staticmethod
    def documented_names() -> list[str]:
        """Every environment variable the service reads."""
        return sorted(
            [f"{ENV_PREFIX}{n}" for n in ("DATABASE_URL", "SQLITE_SYNCHRONOUS", "HOST", "PORT", "POLICY_FILE")]
            + list(_LIMIT_ENV)
        )
