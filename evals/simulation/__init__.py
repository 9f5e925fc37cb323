"""End-to-end feedback simulation: simulated customers and reviewers drive the real pipeline and nightly job.

split (held-out set, customer batches) → customers (thumbs) → reviewers (verdicts) → loop (rounds, arms)
→ report (JSON, Markdown, plots). See docs/simulation.md.
"""
