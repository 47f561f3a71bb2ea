"""`make eval`: quality figures of the intent engine on held-back data."""
