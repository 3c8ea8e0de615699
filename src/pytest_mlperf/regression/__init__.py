"""Regression testing: stored runs (:mod:`.store`), their comparison (:mod:`.compare`),
side-by-side A/B (:mod:`.ab`), the block statistics both test (:mod:`.blocks`), and the
comparison record every renderer reads (``docs/regressions.md``)."""
