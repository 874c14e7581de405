"""The Stepwise definition language, its compiler and the deterministic interpreter.

Everything in this package is replay-safe: no I/O, no clock, no randomness.
"""
