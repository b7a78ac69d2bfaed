"""Followup's HTTP resources: one blueprint per resource."""
