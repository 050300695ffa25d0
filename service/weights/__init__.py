"""Weight learning: the history of accepted parcel weights and what it derives (issue 14)."""
