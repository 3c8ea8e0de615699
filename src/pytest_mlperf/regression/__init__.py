"""Regression testing: stored runs (:mod:`.store`), their comparison (:mod:`.compare`),
side-by-side A/B (:mod:`.ab`), the block statistics both test (:mod:`.blocks`), and the
comparison record every renderer reads (:mod:`.comparison`); ``docs/regressions.md``.

The defaults of a comparison live here, where options and commands can name them without
loading the statistics.
"""

DEFAULT_MAX_PCT = 5.0  # tolerance: a slow-down smaller than this never counts
DEFAULT_ALPHA = 0.05  # family-wise false-regression rate of a stored-run comparison
DEFAULT_RUN_SPREAD_PCT = 5.0  # assumed run-to-run spread of p50 and CPU time without history
# p95 and throughput (a mean, which the slow calls pull) are assumed to spread this many times
# as much: between unchanged processes they moved 3-5x as much as p50 (docs/regressions.md)
TAIL_SPREAD_FACTOR = 3.0
