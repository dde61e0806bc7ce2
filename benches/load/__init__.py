"""The HTTP benchmark (`python -m benches.load.run_http`) and the reference app it serves."""
