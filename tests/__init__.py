"""The test suite. It is a package, so pytest's rootdir import puts the repository root on
sys.path, and the helpers of tests/support/ are imported as `tests.support.<module>` here,
in benches/ and in scripts/."""
