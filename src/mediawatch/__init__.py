"""mediawatch: media monitoring for diaspora cultural coverage."""

__version__ = "0.1.0"
