"""Shift supervision: figures aggregated in SQL (figures.py) and audited actions (actions.py)."""
