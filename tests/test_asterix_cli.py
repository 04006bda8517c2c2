"""``skyfuse decode`` on ASTERIX: the real CAT048/CAT034 pcap (deduplicated and not), an
injected unknown-category block, raw block files with ``--date``, ``--errors``, the stderr
summary and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from asterix_helpers import PCAP, cat034_north_marker, cat048_block, pcap_bytes, udp_frame
from skyfuse.cli.main import main
from skyfuse.decode.asterix import reference_from_date
from skyfuse.ingest.pcap import read_udp_file


def _decode(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[list[dict[str, Any]],
                                                                      str]:
    assert main(["decode", *argv]) == 0
    out, err = capsys.readouterr()
    return [json.loads(line) for line in out.splitlines()], err


def _kinds(recs: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in recs:
        if "kind" in r:
            out[r["kind"]] = out.get(r["kind"], 0) + 1
    return out


def test_real_pcap_deduplicated_64_plots_17_markers(capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    """Default: redundant multicast copies dropped: 64 CAT048 + 17 CAT034 records."""
    recs, err = _decode(capsys, str(PCAP))
    assert _kinds(recs) == {"CAT048": 64, "CAT034": 17}
    assert all(r["source"] == "asterix" and isinstance(r["t_s"], float) for r in recs)
    # pcap timestamps date the time of day: 2016-05-05, within the capture's span
    assert all(abs(r["t_s"] - 1462433756.5) < 30.0 for r in recs)
    plots = [r for r in recs if r["kind"] == "CAT048"]
    assert {r["sic"] for r in plots} == {11, 12, 13, 14, 201, 204, 205}
    assert sum(r["icao24"] is not None for r in plots) == 63
    thy = next(r for r in plots if r["callsign"] == "THY9TX")
    assert (thy["icao24"], thy["mode3a"], thy["fl"], thy["sac"], thy["sic"]) == (
        "4baacd", "2303", 360.0, 25, 13)
    assert thy["azimuth_deg"] == pytest.approx(128.759765625)
    assert thy["slant_range_m"] == pytest.approx(194.82421875 * 1852.0)
    assert "format asterix (pcap)" in err and "records 81 (CAT034 17, CAT048 64)" in err
    assert "duplicates 81" in err and "bad blocks 0" in err and "unknown categories 0" in err


def test_real_pcap_without_dedup_128_plots_34_markers(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    recs, err = _decode(capsys, str(PCAP), "--no-dedup")
    assert _kinds(recs) == {"CAT048": 128, "CAT034": 34}
    assert "records 162 (CAT034 34, CAT048 128)" in err and "duplicates 0" in err


def test_unknown_category_and_rejected_block_counted(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    """A well-formed CAT099 block injected into a datagram is counted in the summary and
    skipped; a block libasterix rejects is an error line (--errors) and loses only itself."""
    alien = bytes([99, 0, 7]) + b"\x80\x01\x02\x03"
    broken = bytes([48, 0, 6]) + b"\xff\xff\xff"  # FSPEC runs past the block
    frames = []
    for i, d in enumerate(read_udp_file(PCAP)):
        payload = d.payload
        if i == 0:
            payload = alien + payload
        elif i == 1:
            payload = broken + payload
        frames.append((d.t_s, udp_frame(payload, dport=d.dst_port, dst=d.dst_ip)))
    path = tmp_path / "injected.pcap"
    path.write_bytes(pcap_bytes(frames))
    recs, err = _decode(capsys, str(path), "--errors")
    assert _kinds(recs) == {"CAT048": 64, "CAT034": 17}  # nothing else lost
    (e,) = [r for r in recs if "error" in r]
    assert e["offset"] == 0 and e["datagram"] == 1 and e["category"] == 48
    assert "rejected" in e["error"]
    assert "unknown categories 1 (CAT099 1)" in err and "bad blocks 1" in err


def test_raw_blocks_with_date_and_file_offsets(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    plot = {"sac": 7, "sic": 9, "tod_s": 50000.5, "rho_nm": 40.25, "theta_deg": 90.0,
            "icao24": 0xABC123, "fl": 250.0, "mode3a": 0o4321, "callsign": "EZY42",
            "trn": 12}
    blocks = [cat034_north_marker(7, 9, 50000.0), cat048_block([plot]),
              bytes([48, 0, 6]) + b"\xff\xff\xff"]
    path = tmp_path / "radar.ast"
    path.write_bytes(b"".join(blocks) + b"\x30\x00")  # and a cut-off block header
    midnight = reference_from_date("2024-05-05") - 43200.0
    # raw blocks: needs --format asterix only when the first block's category is unusual
    recs, err = _decode(capsys, str(path), "--format", "asterix", "--date", "2024-05-05",
                        "--errors")
    marker, p = recs[0], recs[1]
    assert (marker["kind"], marker["msg_type"], marker["rotation_period_s"]) == (
        "CAT034", 1, 4.0)
    assert marker["t_s"] == midnight + 50000.0
    assert (p["kind"], p["source"], p["t_s"], p["icao24"], p["callsign"], p["fl"],
            p["mode3a"], p["track_number"], p["sac"], p["sic"]) == (
        "CAT048", "asterix", midnight + 50000.5, "abc123", "EZY42", 250.0, "4321", 12, 7, 9)
    assert p["slant_range_m"] == pytest.approx(40.25 * 1852.0)
    assert p["azimuth_deg"] == pytest.approx(90.0)
    errs = recs[2:]
    assert [e["offset"] for e in errs] == [len(blocks[0]) + len(blocks[1]),
                                           sum(map(len, blocks))]
    assert "format asterix (raw)" in err and "records 2 (CAT034 1, CAT048 1)" in err
    assert "bad blocks 1" in err and "bad tail 2 bytes" in err
    # without --date the time of day falls on 1970-01-01; detected without --format
    recs, _ = _decode(capsys, str(path))
    assert recs[1]["t_s"] == 50000.5


@pytest.mark.parametrize(("content", "argv", "message"), [
    (None, (), "No such file"),
    (b"\xd4\xc3\xb2\xa1garbage", (), "not a readable pcap/pcapng capture"),
    (b"hello, world\n" * 3, ("--format", "asterix"), "no well-formed ASTERIX data block"),
    (b"\x30\x00\x03", ("--date", "5 May"), "--date '5 May': expected YYYY-MM-DD"),
])
def test_bad_files_exit_2_naming_them(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      content: bytes | None, argv: tuple[str, ...],
                                      message: str) -> None:
    path = tmp_path / "bad.bin"
    if content is not None:
        path.write_bytes(content)
    assert main(["decode", str(path), *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err and "Traceback" not in err
    if "--date" not in argv:
        assert str(path) in err
