"""Stock: the append-only ledger, allocation of orders, and what is published to shops."""
