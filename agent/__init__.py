"""spec-agent: a local assistant for automotive EMC component specifications."""

__version__ = "0.1.0"
