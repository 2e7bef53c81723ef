"""Collecting job postings: one polite fetcher and one module per source kind."""
