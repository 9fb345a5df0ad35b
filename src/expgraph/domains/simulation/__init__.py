"""Simulation: iterations, events and simulation runs of simulation experiments."""
