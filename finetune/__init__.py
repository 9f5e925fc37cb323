"""Learning from feedback: SFT datasets, LoRA recipe, embedder fine-tuning, eval gate, nightly job."""
