"""Eval suites for engineers (retrieval, answers, calibration), callable from the CLI and the nightly job."""
