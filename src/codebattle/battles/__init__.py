"""Battles: the match state machine, later matchmaking, rooms and the AI opponent."""
