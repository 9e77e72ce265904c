"""Report formats: every writer takes the same Evaluation and writes one file."""
