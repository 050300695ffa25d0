"""Pure returns-bench core: find the parcel's order, book each unit in with a disposition."""
