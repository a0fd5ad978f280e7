"""Health: can the service read its database?"""

from __future__ import annotations

from deconfliction.service.runtime import Runtime


def check(rt: Runtime) -> tuple[bool, str]:
    try:
        with rt.store.read() as tx:
            tx.parties.list(limit=1)
    except Exception as exc:  # any failure to read is what health reports
        return False, f"{type(exc).__name__}: {exc}"
    return True, "reachable"
