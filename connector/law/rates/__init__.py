"""Data files: statutory interest rates."""
