"""Bookkeeping adapters, one package per API, found through entry points."""
