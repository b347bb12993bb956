"""Benchmarks (quality, speed at scale); each is run as `python -m benchmarks.<name>`."""
