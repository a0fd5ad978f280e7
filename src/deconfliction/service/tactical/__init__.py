"""The tactical service: the feeds' listeners, the detection cycle and its wiring from the settings.

The geometry and the alert lifecycle are pure and live in ``deconfliction.domain.tactical``, the feed
parsers in ``deconfliction.formats`` (``sbs``, ``cot``); this package holds what touches sockets, clocks
and threads (docs/tactical.md).
"""
