"""Shipping: labels ahead of packing, relabelling, dispatch, tracking, fulfilment back to shops."""
