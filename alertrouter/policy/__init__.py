"""The routing policy: priority by clinical impact, on-call rotations and overrides; pure functions."""
