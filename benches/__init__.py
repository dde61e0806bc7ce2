"""The benchmarks: pytest-benchmark files (`pytest benches`), their inputs and traffic
classes, and runners run as modules from the repository root (`python -m benches.<name>`)."""
