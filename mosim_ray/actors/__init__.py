"""Thin Ray actor wrappers over the plain classes of ``data``, ``train`` and ``model``."""
