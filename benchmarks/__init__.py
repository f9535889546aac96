"""spanscope's performance suite: `make bench` (or `python -m benchmarks [NAME...]`)."""
