"""Rewards: achievements, the season's end, the avatar shop and gift cards for points."""
