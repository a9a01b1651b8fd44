"""Pure matching logic: test catalogue, clause -> test matcher, evaluation, keywords, units, tables."""
