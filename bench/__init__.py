"""Benchmarks of Gradeline's mechanisms against baselines measured in the same run.

``python -m bench`` runs every registered suite, ``python -m bench store`` one of them; see
``bench/__main__.py`` for the registry and ``docs/benchmarks.md`` for the method and results.
"""
