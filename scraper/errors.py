"""Every error himjobs raises on purpose, as one tree::

    HimjobsError
    ├── ConfigError            a sources.toml entry or setting is wrong (names the entry and field)
    ├── SourceFormatError      a payload is not in the shape its source kind promises
    └── FetchError             a request did not yield a usable response
        ├── RobotsDisallowed   robots.txt forbids the URL
        ├── Blocked            HTTP 403: the site refuses us; must be noticed, never retried
        ├── ResponseTooLarge   the body exceeded the size cap
        ├── CircuitOpen        the host failed too often recently; requests are not sent
        ├── FetchTimeout       connect/read timed out after the retries
        └── BadStatus          any other non-success status after the retries
"""

from __future__ import annotations


class HimjobsError(Exception):
    """Base of every error himjobs raises on purpose."""


class ConfigError(HimjobsError):
    """A configuration file is invalid."""


class SourceFormatError(HimjobsError):
    """A payload does not have the shape its source kind promises."""


class FetchError(HimjobsError):
    def __init__(self, message: str, url: str = "", status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


class RobotsDisallowed(FetchError):
    pass


class Blocked(FetchError):
    pass


class ResponseTooLarge(FetchError):
    pass


class CircuitOpen(FetchError):
    pass


class FetchTimeout(FetchError):
    pass


class BadStatus(FetchError):
    pass
