"""RLlib at the edge: our fast SAC (buffer, critic, learner, algorithm), algorithm presets, a
policy as a plain function, and judging a policy in the real environment.

``from mosim_ray.sac.presets import algorithm_config`` is the usual entry point.
"""
