"""Submissions: saved code, judge jobs, results recorded test by test."""
