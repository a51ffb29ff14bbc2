"""Purchase patterns: which items don't fit what a person usually buys, and why (in words)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

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
