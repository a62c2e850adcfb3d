"""Model backends: every one speaks the ModelBackend protocol."""
