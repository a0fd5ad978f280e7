"""The pure core: value types, geometry, conflict rules, policies and state machines. No I/O."""
