"""tastegraph: a self-hostable content social network and audience platform."""

__version__ = "0.1.0"
