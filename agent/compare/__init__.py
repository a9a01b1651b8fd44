"""Comparisons: what changed between two editions (`diff_editions`), how documents differ on one test."""
