"""Side-by-side benchmark harness (bench/run.sh); see bench/README.md."""
