"""Purchase patterns: departments, when an item is unusual, and how the reason is worded."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.adapters.content import load_rules
from bot.config import PROJECT_ROOT
from bot.domain.errors import ContentError
from bot.domain.patterns import PatternRules, department, label, unusual
from bot.domain.purchases import OrderItem, PastItem

RULES = PatternRules()
SHIRTS = "apparel/menswear/shirts"
TROUSERS = "apparel/menswear/trousers"
DRESSES = "apparel/womenswear/dresses"
KITCHEN = "home/kitchen/cookware"
FICTION = "books/fiction"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def item(category: str = DRESSES, name: str = "Wrap Dress") -> OrderItem:
    return OrderItem(line=1, sku="SKU", name=name, category=category)


def history(*categories: str) -> list[PastItem]:
    """Earlier items, newest first (as the repository returns them)."""
    return [
        PastItem(f"o-{n}", 1, f"item {n}", category, START - timedelta(days=n))
        for n, category in enumerate(categories)
    ]


# --- departments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "depth", "expected"),
    [
        (DRESSES, 2, "apparel/womenswear"),
        (DRESSES, 1, "apparel"),
        (DRESSES, 3, DRESSES),
        (DRESSES, 5, DRESSES),
        ("books", 2, "books"),
        (" Apparel / MensWear //Shirts ", 2, "apparel/menswear"),
    ],
)
def test_department_is_the_first_segments_of_the_category(
    category: str, depth: int, expected: str
) -> None:
    assert department(category, depth) == expected


def test_a_department_is_said_by_its_last_segment() -> None:
    assert label("apparel/menswear") == "menswear"
    assert label("home/garden_tools") == "garden tools"
    assert label("books") == "books"


# --- never flagged ----------------------------------------------------------------------


def test_a_first_purchase_is_never_flagged() -> None:
    assert unusual(item(), [], RULES) is None


@pytest.mark.parametrize("count", [1, 2])
def test_a_short_history_is_never_flagged(count: int) -> None:
    assert unusual(item(), history(*[SHIRTS] * count), RULES) is None


def test_the_minimum_history_is_enough() -> None:
    assert unusual(item(), history(SHIRTS, SHIRTS, TROUSERS), RULES) == (
        "3 of 3 earlier items were menswear"
    )


def test_an_item_from_the_usual_department_is_not_flagged() -> None:
    assert unusual(item(TROUSERS, "Chinos"), history(*[SHIRTS] * 6), RULES) is None


def test_stated_interests_suppress_the_flag() -> None:
    interests = frozenset({"apparel/womenswear"})

    assert unusual(item(), history(*[SHIRTS] * 6), RULES, interests) is None


def test_interests_in_other_departments_do_not_suppress_it() -> None:
    interests = frozenset({"home/kitchen"})

    assert unusual(item(), history(*[SHIRTS] * 6), RULES, interests) is not None


# --- the 80% threshold ------------------------------------------------------------------


def test_four_of_five_differing_is_flagged() -> None:
    past = history(SHIRTS, SHIRTS, DRESSES, TROUSERS, SHIRTS)

    assert unusual(item(), past, RULES) == "4 of 5 earlier items were menswear"


def test_three_of_five_differing_is_not_flagged() -> None:
    past = history(SHIRTS, DRESSES, TROUSERS, DRESSES, SHIRTS)

    assert unusual(item(), past, RULES) is None


def test_a_threshold_of_one_needs_every_earlier_item_to_differ() -> None:
    strict = dataclasses.replace(RULES, threshold=1.0)
    past = history(SHIRTS, SHIRTS, DRESSES, TROUSERS, SHIRTS)

    assert unusual(item(), past, strict) is None
    assert unusual(item(), history(*[SHIRTS] * 5), strict) is not None


def test_only_the_newest_history_items_count() -> None:
    past = history(*[SHIRTS] * 10, DRESSES, DRESSES)

    assert unusual(item(), past, RULES) == "10 of 10 earlier items were menswear"


def test_older_purchases_beyond_the_window_do_not_suppress_a_flag() -> None:
    few = dataclasses.replace(RULES, history_items=4)
    past = history(SHIRTS, SHIRTS, SHIRTS, SHIRTS, DRESSES, DRESSES)

    assert unusual(item(), past, few) == "4 of 4 earlier items were menswear"


# --- wording ----------------------------------------------------------------------------


def test_reason_names_the_one_usual_department() -> None:
    past = history(SHIRTS, TROUSERS, SHIRTS, TROUSERS, SHIRTS, SHIRTS)

    assert unusual(item(), past, RULES) == "6 of 6 earlier items were menswear"


def test_reason_for_a_mixed_history_names_the_main_department() -> None:
    past = history(KITCHEN, FICTION, KITCHEN, KITCHEN, FICTION)

    assert unusual(item(), past, RULES) == (
        "5 of 5 earlier items were from other departments, mostly kitchen"
    )


def test_mixed_wording_counts_only_the_differing_items() -> None:
    past = history(KITCHEN, KITCHEN, FICTION, KITCHEN, FICTION, DRESSES)

    assert unusual(item(), past, RULES) == (
        "5 of 6 earlier items were from other departments, mostly kitchen"
    )


# --- depth ------------------------------------------------------------------------------


def test_at_depth_one_a_dress_after_menswear_is_still_apparel() -> None:
    shallow = dataclasses.replace(RULES, department_depth=1)

    assert unusual(item(), history(*[SHIRTS] * 6), shallow) is None


def test_at_depth_three_trousers_after_shirts_are_unusual() -> None:
    deep = dataclasses.replace(RULES, department_depth=3)

    assert unusual(item(TROUSERS, "Chinos"), history(*[SHIRTS] * 6), deep) == (
        "6 of 6 earlier items were shirts"
    )


# --- the rules file ---------------------------------------------------------------------


def test_the_shops_rules_file_loads() -> None:
    rules = load_rules(PROJECT_ROOT / "shop" / "purchase_rules.yml")

    assert rules.department_depth == 2
    assert rules.min_history >= 3
    assert 0.5 <= rules.threshold <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "min_history: 2",
        "history_items: 3\nmin_history: 4",
        "threshold: 0.4",
        "threshold: 1.5",
        "department_depth: 0",
    ],
)
def test_rules_out_of_range_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "purchase_rules.yml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ContentError):
        load_rules(path)


def test_an_empty_rules_file_means_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "purchase_rules.yml"
    path.write_text("", encoding="utf-8")

    assert load_rules(path) == PatternRules(annual_occasions=())
