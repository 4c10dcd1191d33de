"""The benchmark: `.venv/bin/python bench/run.py --help`."""
