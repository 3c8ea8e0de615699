"""The one exception the cost model raises for input it cannot use."""

from __future__ import annotations


class CostConfigError(ValueError):
    """A traffic assumption, price override, budget or measurement that cannot be used.

    The message always names the offending key and where it came from (a file and table, a
    marker, a command-line option), so the plugin and the CLI can show it as a usage error
    without a traceback.
    """
