"""Checks of the arguments a user passes in, where they enter: one line naming the argument,
the value and what is expected, instead of a traceback (or a hang, or a lost report) later.

Types, ranges and finiteness are checked here, with an upper bound wherever arithmetic on the
value would overflow (seconds become nanoseconds, say). NumPy scalars are numbers. Kept free of
pytest imports: the measuring core uses it too.
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
from collections.abc import Callable, Collection, Mapping, Set
from typing import Any

MAX_SECONDS = 1e6  # about 11 days: any setting in seconds above this is a typo
MAX_CALLS = 10**9  # calls, samples, blocks: far beyond any measurement, far below an overflow
MAX_SEED = 2**63 - 1


class ArgumentError(ValueError):
    """An argument that cannot be used; the message names it, its value and what is expected."""


def shown(value: Any) -> str:
    """The value as the error shows it: its repr, cut short, and its type when that helps."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    kind = type(value).__name__
    return text if kind in ("int", "float", "str", "bool", "NoneType") else f"{text} ({kind})"


def _fail(name: str, value: Any, expected: str) -> ArgumentError:
    return ArgumentError(f"{name} must be {expected}, got {shown(value)}")


def whole(name: str, value: Any, low: int = 0, high: int = MAX_CALLS) -> int:
    """A whole number in [low, high]; NumPy integers are welcome, bools and floats are not."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _fail(name, value, f"a whole number from {low} to {high:,}")
    number = int(value)
    if not low <= number <= high:
        raise _fail(name, value, f"a whole number from {low} to {high:,}")
    return number


def real(
    name: str,
    value: Any,
    low: float = 0.0,
    high: float = MAX_SECONDS,
    *,
    above: bool = False,
    below: bool = False,
) -> float:
    """A finite number in [low, high] (strictly above `low` / below `high` when asked)."""
    expected = (
        f"a finite number {'above' if above else 'from'} {low:g} "
        f"{'and below' if below else 'up to'} {high:g}"
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(name, value, expected)
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        raise _fail(name, value, expected) from None
    inside = low < number if above else low <= number
    inside = inside and (number < high if below else number <= high)
    if not math.isfinite(number) or not inside:
        raise _fail(name, value, expected)
    return number


def flag(name: str, value: Any) -> bool:
    """True or False (a NumPy bool too); 1, 'yes' and None are not flags."""
    if type(value).__name__ not in ("bool", "bool_"):
        raise _fail(name, value, "True or False")
    return bool(value)


def text(name: str, value: Any, *, optional: bool = False) -> str | None:
    """A string (or None when `optional`): labels end up in report keys, JSON and XML."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _fail(name, value, "a string" + (" or None" if optional else ""))
    return value


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def method_name(value: Any) -> str:
    """The name of the model's method to time, such as 'predict'."""
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise _fail("method", value, "the name of a method of the model, such as 'predict'")
    return value


def clock(name: str, value: Any) -> Callable[[], int]:
    """A function of no arguments returning nanoseconds."""
    if not callable(value):
        raise _fail(name, value, "a function returning nanoseconds, such as time.perf_counter_ns")
    return value  # type: ignore[no-any-return]


def rows(name: str, value: Any) -> Any:
    """Data the model is called on: an array, DataFrame, sparse matrix or list of rows.

    Strings, mappings and sets have a length but no rows: batches cut from them would be
    characters, keys or an error deep inside the measurement.
    """
    if isinstance(value, (str, bytes, bytearray, Mapping, Set)) or value is None:
        raise _fail(name, value, "an array, DataFrame, sparse matrix or list of rows")
    if not hasattr(value, "shape") and not hasattr(value, "__len__"):
        raise _fail(name, value, "an array, DataFrame, sparse matrix or list of rows")
    return value


def optional(check: Callable[..., Any]) -> Callable[..., Any]:
    """`check`, letting None through."""

    def checked(name: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        return None if value is None else check(name, value, *args, **kwargs)

    return checked


def unknown_names(given: Collection[str], accepted: Collection[str], what: str) -> str:
    """'unknown setting smaples (did you mean samples?); accepted: ...', or '' if none."""
    unknown = sorted(set(given) - set(accepted))
    if not unknown:
        return ""
    guesses = [m for key in unknown for m in difflib.get_close_matches(key, list(accepted), 1)]
    hint = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
    return f"unknown {what} {', '.join(unknown)}{hint}; accepted: {', '.join(accepted)}"


def settings(
    values: Mapping[str, Any],
    checks: Mapping[str, Callable[..., Any]],
    accepted: Collection[str] | None = None,
) -> None:
    """Check each given setting that has a check; a setting outside `accepted` (default: the
    checked ones) is named with the accepted ones."""
    known = sorted(checks if accepted is None else accepted)
    problem = unknown_names(values, known, "setting")
    if problem:
        raise ArgumentError(problem)
    for key, value in values.items():
        if key in checks:
            checks[key](key, value)


def whole_from(low: int, high: int = MAX_CALLS) -> Callable[[str, Any], int]:
    return lambda name, value: whole(name, value, low, high)


def real_in(
    low: float, high: float, *, above: bool = False, below: bool = False
) -> Callable[[str, Any], float]:
    return lambda name, value: real(name, value, low, high, above=above, below=below)


# The settings of one measurement (`Benchmarker`), checked where it is made.
BENCHMARKER_CHECKS: dict[str, Callable[..., Any]] = {
    "warmup": whole_from(0),
    "warmup_time": real_in(0.0, MAX_SECONDS),
    "max_time": real_in(0.0, MAX_SECONDS, above=True),
    "samples": whole_from(2),
    "max_samples": optional(whole_from(1)),
    "confidence": real_in(0.5, 1.0, above=True, below=True),
    "seed": whole_from(0, MAX_SEED),
    "disable_gc": flag,
    "measure_memory": flag,
    "run_spread": real_in(0.0, 2.0),
    "clock": clock,
}

# The settings of a side-by-side comparison (`measure_ab`) that the fixture passes through.
AB_CHECKS: dict[str, Callable[..., Any]] = {
    "blocks": whole_from(2),
    "block_calls": whole_from(1),
    "max_blocks": whole_from(2),
    "tolerance_pct": real_in(0.0, 1e6),
    "alpha": real_in(0.0, 0.5, above=True, below=True),
    "metric": text,
    "test": text,
    "unknown_p": real_in(0.0, 1.0),
    "interleave": whole_from(1),
    "warmup": whole_from(0),
    "max_time": real_in(0.0, MAX_SECONDS, above=True),
    "disable_gc": flag,
    "seed": whole_from(0, MAX_SEED),
    "clock": clock,
    "cpu_clock": optional(clock),
    "baseline_name": optional(text),
    "candidate_name": optional(text),
}


def names(name: str, value: Any) -> Any:
    """A collection of strings (a list, a set), not one string."""
    if isinstance(value, str) or not isinstance(value, Collection):
        raise _fail(name, value, "a list of names")
    for item in value:
        if not isinstance(item, str):
            raise _fail(name, value, "a list of names")
    return value


def sizes(name: str, value: Any) -> Any:
    """Batch sizes: positive whole numbers, as a sequence."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Collection) or not value:
        raise _fail(name, value, "a sequence of batch sizes such as (1, 8, 32)")
    for item in value:
        whole(name, item, 1)
    return value


def function(name: str, value: Any) -> Any:
    if not callable(value):
        raise _fail(name, value, "a function")
    return value


# The options of `model_bench.advise` the fixture passes through (the rest: `call`).
ADVISE_CHECKS: dict[str, Callable[..., Any]] = {
    "batch_sizes": sizes,
    "techniques": optional(names),
    "max_accuracy_loss": real_in(0.0, 1.0, below=True),
    "min_gain": real_in(0.0, 1e6),
    "importance_threshold": real_in(0.0, 1.0),
    "max_depth": optional(whole_from(1, 10**6)),
    "bits": whole_from(1, 64),
    "X_train": optional(rows),
    "monthly_cost": optional(function),
    "side_by_side": flag,
}


def call(X: Any, method: Any, name: Any) -> None:
    """Check the data, method and name of one `model_bench(...)`/`sweep(...)` call."""
    rows("X", X)
    method_name(method)
    text("name", name, optional=True)
