"""Measuring the assistant: question files (`dataset`), the held-out split (`split`), the runner
(`runner`) and its records (`results`), metrics, thresholds, the Markdown report with its chart,
the llama-index baseline, the benchmarks, and the script that fits the answer model (`fit`)."""
