"""Canaries: unique strings pushed into the stack, and the search for them in its logs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field


@dataclass
class Canaries:
    """Every unique string pushed into the stack, and where it went in."""

    values: dict[str, str] = field(default_factory=dict)

    def new(self, where: str) -> str:
        """A fresh canary (lowercase letters and digits: survives JSON, URL and repr escaping)."""
        return self.add(f"cnry{secrets.token_hex(8)}", where)

    def number(self, where: str) -> int:
        """A fresh numeric canary (13 digits starting with 9: no timestamp looks like it)."""
        value = 9_000_000_000_000 + secrets.randbelow(10**12)
        self.add(str(value), where)
        return value

    def add(self, value: str, where: str) -> str:
        assert value not in self.values
        self.values[value] = where
        return value

    def email(self, where: str) -> str:
        return self.add(f"{self.new(where)}@example.com", where)

    def phone(self, where: str) -> str:
        """A UK mobile number (07700 9xxxxx is reserved for fiction); its compact form is
        watched too."""
        number = f"+44 7700 9{secrets.randbelow(10**5):05d}"
        while number in self.values:
            number = f"+44 7700 9{secrets.randbelow(10**5):05d}"
        self.add(number.replace(" ", "").removeprefix("+"), where)
        return self.add(number, where)

    def pii_text(self, where: str) -> str:
        """A shopper message with contact data in it (each part is a canary)."""
        return (
            f"my email is {self.email(where)}, text me on {self.phone(where)} "
            f"or ask for {self.new(where)}"
        )


def leaks(logs: str, watched: dict[str, str]) -> list[str]:
    """Each watched value found in `logs` (case-insensitive), with where it went in and the line."""
    lines = logs.lower().splitlines()
    found = []
    for value, where in watched.items():
        hits = [line for line in lines if value.lower() in line]
        if hits:
            found.append(f"{where}: {value!r} in {hits[0][:300]!r}")
    return found
