"""Test infrastructure, not part of the product's API: the seeded synthetic cluster generator
(:mod:`rightsizer.testing.synthetic`) and a real Prometheus or VictoriaMetrics on 127.0.0.1 filled from it
(:mod:`rightsizer.testing.testbed`).

The tests, the benchmarks and ``scripts/make-demo-snapshot.py`` use them; no command does.  They ship in
the package so that a user can reproduce a benchmark or a bug report against the same generated cluster.
"""
