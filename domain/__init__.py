"""Errand's pure core: models, rules, state machines and use cases. No I/O, no vendor imports."""
