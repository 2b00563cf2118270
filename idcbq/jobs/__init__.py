"""Scheduled cohort jobs: a validated spec, one dated folder per run, an atomic ``latest``."""
