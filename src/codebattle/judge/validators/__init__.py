"""Validators: the default output validator, run inside the judge process (default.py), and
how a package's own validator and grader programs are built for the sandbox (programs.py)."""
