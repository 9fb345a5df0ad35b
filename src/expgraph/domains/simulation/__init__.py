"""Simulation: iterations, events and simulation runs of simulation experiments (seeds 002, 004)."""
