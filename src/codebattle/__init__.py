"""AI Code Battle."""
