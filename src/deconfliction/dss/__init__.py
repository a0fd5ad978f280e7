"""The ASTM F3548-21 DSS interface (docs/dss.md), over the service's own store.

``extents`` (pure): the standard's Volume4D in, exact footprints and their union out, with the limits the
reference DSS enforces. ``auth`` (pure): OAuth 2 bearer JWTs. ``service``: one function per DSS
operation, each one write transaction. The HTTP adapter is ``deconfliction.api.dss``.
"""
