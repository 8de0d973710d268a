"""Bitstamp's payloads as the simulator writes them, one module per payload family.

The other half of ``workstation.bitstamp``, which reads them: the client package holds only
what a client needs, and what both ends share (``market_name``, the market status words, the
signature) stays there. ``fields`` is this half's one helper: the field writers.
"""
