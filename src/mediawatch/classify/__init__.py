"""Tagging: relevance, countries and topics."""
