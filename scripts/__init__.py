"""The developer scripts written in Python, run as modules from the repository root
(`python -m scripts.<name>`). The fuzzing seed writers are also run by path, by
scripts/fuzz.sh."""
