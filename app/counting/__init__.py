"""Pure cycle-count core: scan a bin label, scan each unit found there, confirm."""
