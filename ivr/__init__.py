"""Phone-support controller for a digital-wallet hotline."""

__version__ = "0.1.0"
