"""Conformance: independent Bitstamp clients (ccxt, ccxt.pro) against the simulator."""
