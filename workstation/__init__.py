"""A terminal trading workstation for Bitstamp, with a Bitstamp-compatible simulator."""

__version__ = "0.1.0"
