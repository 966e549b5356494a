"""Rooms: a host, many players, one or several problems, a live leaderboard; their state
machine (fsm), the rules in the database (service), events published (live) and the snapshot
a socket is welcomed with (snapshots)."""
