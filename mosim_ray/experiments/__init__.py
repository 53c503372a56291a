"""Experiments as data: a run kind, its settings, seeds and declared inputs in a YAML file
(``benchmarks/experiments/``); a runner that fills in missing seeds and resumes after a stop;
statistics over seeds; and the report that writes the docs' tables from the seed files."""
