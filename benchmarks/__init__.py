"""chainrule's benchmarks: ratios measured in one run, never single absolute times.

Run them with ``python -m benchmarks`` from the repository root (see ``--help``).
"""
