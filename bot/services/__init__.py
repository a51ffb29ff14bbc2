"""Use cases: plain values in, domain objects out; stores are passed in."""
