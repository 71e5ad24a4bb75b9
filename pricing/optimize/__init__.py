"""The optimizer: candidate table → model (one define_* per rule family) → solve → plan."""
