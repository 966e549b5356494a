"""Graders: how one test's run is turned into a verdict, one module each (like DMOJ's
dmoj/graders/). The engine (judge/engine.py) keeps the test loop and the policy and asks
the package's grader for each test:

- standard.py: the default output comparison (judge/validators/default.py);
- validator.py: a package's output validator (Kattis interface, exit codes 42/43);
- interactive.py: an interactor and the submission joined by pipes.

`base.py` holds what they share: the `Grader` interface, the failure verdicts of a run
(limits, crashes, the language's own out-of-memory report) and the TestResult they build.
"""
