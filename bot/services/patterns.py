"""Purchase patterns: which items don't fit what a person usually buys, and why (in words)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.domain.errors import ContentError
from bot.domain.purchases import OrderItem, PastItem


@dataclass(frozen=True)
class PatternRules:
    """Shop-tunable rules (shop/purchase_rules.yml)."""

    department_depth: int = 2
    history_items: int = 10
    min_history: int = 3
    threshold: float = 0.8
    flag_ttl_days: int = 30
    annual_occasions: tuple[str, ...] = ("birthday", "anniversary")


def load_rules(path: Path) -> PatternRules:
    """Read and check the rules file."""
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules = PatternRules(
        department_depth=int(raw.get("department_depth", 2)),
        history_items=int(raw.get("history_items", 10)),
        min_history=int(raw.get("min_history", 3)),
        threshold=float(raw.get("threshold", 0.8)),
        flag_ttl_days=int(raw.get("flag_ttl_days", 30)),
        annual_occasions=tuple(str(o) for o in raw.get("annual_occasions", ())),
    )
    if rules.min_history < 3 or rules.history_items < rules.min_history:
        raise ContentError("purchase rules: min_history >= 3 and history_items >= min_history")
    if not 0.5 <= rules.threshold <= 1.0 or rules.department_depth < 1:
        raise ContentError("purchase rules: threshold in [0.5, 1], department_depth >= 1")
    return rules


def department(category: str, depth: int) -> str:
    """ "apparel/womenswear/dresses" at depth 2 -> "apparel/womenswear"."""
    parts = [p.strip().lower() for p in category.split("/") if p.strip()]
    return "/".join(parts[:depth])


def label(department_path: str) -> str:
    """How a department is said: its last segment ("apparel/menswear" -> "menswear")."""
    return department_path.rsplit("/", 1)[-1].replace("_", " ")


def unusual(
    item: OrderItem,
    history: list[PastItem],
    rules: PatternRules,
    interests: frozenset[str] = frozenset(),
) -> str | None:
    """Why `item` is worth asking about, or None when it fits (or history is too short)."""
    past = history[: rules.history_items]
    if len(past) < rules.min_history:
        return None
    own = department(item.category, rules.department_depth)
    if own in interests:
        return None
    departments = Counter(department(p.category, rules.department_depth) for p in past)
    differing = len(past) - departments[own]
    if differing < rules.threshold * len(past):
        return None
    top, top_count = departments.most_common(1)[0]
    if top_count == differing:
        return f"{top_count} of {len(past)} earlier items were {label(top)}"
    return (
        f"{differing} of {len(past)} earlier items were from other departments, mostly {label(top)}"
    )
