"""Deployment: transforms of a trained network, the benchmark harness and the profiler."""
