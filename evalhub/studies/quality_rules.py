"""The rules a study's quality_rules may hold, each with its type and range, checked in one
place for the raters page, the API and the running-settings form. The rater flags read them
over their defaults (evalhub.stats.raters.DEFAULT_RULES, evalhub.stats.crowd_flags.
QUALITY_DEFAULTS); bonus_per_judgment pays the Prolific bonus list."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

# name: (type, low, high). bonus_per_judgment is an amount in the study's currency, as a
# decimal string ("0.05"), so no float ever rounds a payment.
RULES: dict[str, tuple[type, float, float]] = {
    "bonus_per_judgment": (Decimal, 0, 100),
    "min_judgments": (int, 1, 1000),
    "min_timed_judgments": (int, 1, 1000),
    "position_alpha": (float, 1e-9, 0.5),
    "min_median_seconds": (float, 0, 600),
    "gold_expected": (float, 0, 1),
    "gold_alpha": (float, 1e-9, 0.5),
    "min_gold": (int, 1, 1000),
    "spam_odds": (float, 1, 1e12),
    "max_attention_failures": (int, 1, 100),
    "max_too_fast_share": (float, 0, 1),
    "min_agreement": (float, 0, 1),
    "max_left_share": (float, 0, 1),
    "max_run": (int, 1, 100000),
    "min_reliability": (float, 0, 1),
}


def quality_rule_checked(name: str, value: Any) -> Any:
    """The rule's value as stored; ValueError says what it must be. `name` is in RULES."""
    kind, low, high = RULES[name]
    if kind is Decimal:
        if not isinstance(value, str):
            raise ValueError('an amount as a decimal string, e.g. "0.05"')
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise ValueError('an amount as a decimal string, e.g. "0.05"') from None
        if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ValueError("an amount with at most two decimals")
        if not low <= amount <= high:
            raise ValueError(f"between {low} and {high}")
        return str(amount)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a number")
    if kind is int and not isinstance(value, int):
        raise ValueError("a whole number")
    if not low <= value <= high:
        raise ValueError(f"between {low:g} and {high:g}")
    return value
