"""The tactical layer's moving parts: feed parsers and listeners, the track store, the detection cycle.

The geometry and the alert lifecycle are pure and live in ``deconfliction.domain.tactical*``; this package
holds what touches sockets, clocks and threads (docs/tactical.md).
"""
