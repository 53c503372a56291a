"""Evaluation of world models against real MuJoCo (no Ray)."""
