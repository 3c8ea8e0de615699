"""Regression testing: stored runs (:mod:`.store`), their comparison (:mod:`.compare`),
side-by-side A/B (:mod:`.ab`), the block statistics both test (:mod:`.blocks`), and the
comparison record every renderer reads (:mod:`.comparison`); ``docs/regressions.md``.

The defaults of a comparison live here, where options and commands can name them without
loading the statistics.
"""

DEFAULT_MAX_PCT = 5.0  # tolerance: a slow-down smaller than this never counts
DEFAULT_ALPHA = 0.05  # family-wise false-regression rate of a stored-run comparison
DEFAULT_RUN_SPREAD_PCT = 5.0  # assumed run-to-run spread of a statistic without history
