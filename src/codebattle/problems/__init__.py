"""Problem packages in the Kattis / ICPC format."""
