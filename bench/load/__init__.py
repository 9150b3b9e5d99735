"""The load tool: N branch offices over HTTP, retries, duplicates, then the proofs (issue 7)."""
