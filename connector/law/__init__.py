"""Collection law as data and pure functions: the Netherlands first."""
