"""Delivery to job seekers: feeds (Atom, RSS, JSON Feed) and e-mail digests."""
