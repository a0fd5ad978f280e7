"""Use cases: one function per thing a party does. Each opens its own store transaction."""
