"""The HTTP API: thin routes over the use cases in domain.services."""
