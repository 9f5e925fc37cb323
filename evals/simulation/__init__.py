"""End-to-end feedback simulation: simulated customers and reviewers drive the real pipeline and nightly job.

split (held-out sets, customer batches) → steps (customers' thumbs, the review budget, reviewers' votes) → loop
(rounds, arms, work shared between arms) → heldout + answer_metrics (what was shown, how right, why it failed)
→ report, plots, merge (JSON, Markdown, PNG). See docs/simulation.md.
"""
