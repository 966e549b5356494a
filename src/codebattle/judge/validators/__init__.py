"""Output validators that run inside the judge process (no sandbox needed)."""
