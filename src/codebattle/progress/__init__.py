"""Progression: ratings, later seasons, achievements and the points ledger."""
