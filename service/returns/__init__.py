"""Returns (RMAs): created by operators, shops or at the bench; each unit's disposition moves
stock through the ledger."""
