"""The change gate: policy and exemptions in, a verdict and an exit code out (pure)."""
