"""Labelling postings (role, seniority, arrangement) and extracting the facts seekers filter on."""
