"""Office users of the operations console: accounts, sign-in sessions, audit (no web here)."""
