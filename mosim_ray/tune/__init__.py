"""Tune sweeps over any run kind, from YAML (``tune_configs/*.yaml``).

A sweep file names a run kind, its base run, a search space over the run's dotted fields, the
metric and the scheduler; each trial is one ``kind.run`` in its own folder, reporting every
evaluation, so ASHA can stop weak trials early.
"""
