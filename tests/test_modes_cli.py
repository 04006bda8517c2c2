"""``skyfuse decode FILE``: JSON lines, --errors, summary, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modes_helpers import AFR_AVR, DUMP1090_BEAST
from skyfuse.cli.main import main


def test_decode_beast(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(DUMP1090_BEAST)]) == 0
    out, err = capsys.readouterr()
    recs = [json.loads(x) for x in out.splitlines()]
    assert recs and all(r["source"] == "beast" and r["kind"].startswith("DF") for r in recs)
    assert all("t_s" in r for r in recs)
    assert "frames 239" in err and "bad frames 0" in err


def test_decode_avr_positions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(AFR_AVR), "--receiver", "49.0097,2.5479"]) == 0
    out, _ = capsys.readouterr()
    recs = [json.loads(x) for x in out.splitlines()]
    assert sum("latitude" in r for r in recs) > 500
    assert any(r.get("callsign") == "AFR34ZG" for r in recs)


def test_decode_errors_and_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                     ) -> None:
    f = tmp_path / "junk.avr"
    f.write_bytes(b"*8D4840D6202CC371C32CE0576098;\nnonsense here\n*12345;\n")
    assert main(["decode", str(f), "--errors"]) == 0
    out, err = capsys.readouterr()
    errs = [json.loads(x) for x in out.splitlines() if '"error"' in x]
    assert len(errs) == 2 and all("offset" in e for e in errs)
    assert "bad frames 2" in err
    g = tmp_path / "x.bin"
    g.write_bytes(b"hello")
    assert main(["decode", str(g)]) == 2
    assert main(["decode", str(tmp_path / "missing")]) == 2
    assert main(["decode", str(f), "--receiver", "abc"]) == 2
