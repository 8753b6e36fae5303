"""Usage records and inference logs: the stream consumer that writes them, the read API."""
