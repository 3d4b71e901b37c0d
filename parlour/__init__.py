"""Parlour: a self-hostable, multi-channel conversations inbox."""

__version__ = "0.1.0"
