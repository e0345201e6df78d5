"""Deployment: transforms of a trained network and the benchmark harness."""
