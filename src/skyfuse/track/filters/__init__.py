"""Batched estimation kernels: every function works on a leading axis of tracks."""
