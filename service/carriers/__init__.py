"""Carrier adapters: the house carrier (no outside service) and Sendcloud's parcels API."""
