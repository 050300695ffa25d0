"""Packbench packing station."""

__version__ = "0.1.0"
