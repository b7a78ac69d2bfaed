"""Followup's rules with no I/O: periods, due dates, assignment, attempts, sampling, campaigns,
inspections, improvements, the quarterly report's arithmetic and its charts."""
