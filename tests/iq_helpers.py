"""I/Q for dump1090-mutability from real frames, with adsb-generator (the ``test`` extra).

8-bit unsigned interleaved I/Q at 2.4 MS/s (the only rate dump1090-mutability 1.15
demodulates): each frame's PPM waveform from ``ADSBTransmitter`` at its real relative time
over white noise (20 dB SNR). 56-bit frames are sent as the first half of a 112-bit frame
cut after 64 µs; overlapping frames are pushed later with a 30 µs guard; a frame equal to
one sent less than 0.1 s before (heard by two receivers in the recording) is dropped.
Same method as ``../shared/checks/gen_iq_flight.py``.
"""

from __future__ import annotations

import numpy as np

FS_HZ = 2.4e6


def frames_to_uc8(t_s: list[float], frames: list[bytes], lead_s: float = 1.0,
                  tail_s: float = 1.0, snr_db: float = 20.0, amp: float = 0.5,
                  seed: int = 7) -> bytes:
    """UC8 I/Q bytes carrying ``frames`` at times ``t_s`` (seconds, relative) after a lead."""
    from adsb_generator import ADSBTransmitter

    t_first = t_s[0]
    n_tot = int((lead_s + t_s[-1] - t_first + tail_s) * FS_HZ)
    rng = np.random.default_rng(seed)
    p_noise = amp**2 * 0.5 / 10 ** (snr_db / 10)
    s = np.sqrt(p_noise / 2)
    sig = (rng.normal(0, s, n_tot) + 1j * rng.normal(0, s, n_tot)).astype(np.complex64)
    tx = ADSBTransmitter(sample_rate=FS_HZ, seed=3)
    seen: dict[bytes, float] = {}
    last_end = -1
    for t, f in zip(t_s, frames, strict=True):
        if t - seen.get(f, -1e9) < 0.1:
            continue
        seen[f] = t
        bits = len(f) * 8
        start = max(int((lead_s + t - t_first) * FS_HZ), last_end + 1)
        _, w, _ = tx.transmit(int.from_bytes(f, "big") << (112 - bits))
        w = w[: int((8 + bits) * FS_HZ / 1e6)]
        w = w / np.max(np.abs(w)) * amp
        end = min(start + len(w), n_tot)
        sig[start:end] += w[: end - start].astype(np.complex64)
        last_end = start + len(w) + int(FS_HZ * 30e-6)
    iq = np.empty(2 * n_tot, np.float32)
    iq[0::2] = sig.real * 100.0 + 127.5
    iq[1::2] = sig.imag * 100.0 + 127.5
    return np.clip(np.rint(iq), 0, 255).astype(np.uint8).tobytes()
