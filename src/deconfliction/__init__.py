"""Deconfliction service: exact 4D conflict detection, notification and a verifiable record."""

__version__ = "0.1.0"
