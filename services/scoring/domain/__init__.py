"""The scoring core: pure, deterministic functions of events and policies (REGULATION.md §1-§3)."""
