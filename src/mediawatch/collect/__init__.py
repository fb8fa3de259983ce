"""Collectors: turn a source into RawEntry values."""
