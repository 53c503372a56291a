"""RLlib at the edge: env registration, algorithm registry, evaluation in the real env."""
