"""Evaluation of answers on question sets (`spec-agent eval qa`): records, scoring, baseline, table recall."""
