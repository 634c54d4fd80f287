"""Fitting the artefacts in ``models/`` that the service loads; O*NET readers for it and the benchmarks."""
