"""Simulation on real trajectories: rotating radars and ADS-B, in the real wire formats.

``trajectories`` (truth from recorded flights) → ``radar`` / ``adsb`` (sensor models) →
``asterix_out`` / ``modes_encode`` (CAT048/CAT034 pcap, DF17 Beast/AVR) →
``simulate`` (one scenario into a directory). Scenario files: ``scenario``.
Docs: ``docs/simulation.md``.
"""
