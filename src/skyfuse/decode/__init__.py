"""Decoding stage: raw frames → typed records (Mode S via rs1090)."""
