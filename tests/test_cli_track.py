"""``skyfuse track`` as a real process: exit codes, error messages, output contract."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import require_peer

TRACK_HEADER = "t_s,track_id,x_m,y_m,vx_mps,vy_mps"


def skyfuse(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m skyfuse.cli.main ARGS`` and capture its output."""
    return subprocess.run([sys.executable, "-m", "skyfuse.cli.main", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def assert_clean_error(r: subprocess.CompletedProcess[str], code: int, *parts: str) -> None:
    """Exit ``code``, every ``part`` in stderr, one line, no traceback."""
    assert r.returncode == code, r.stderr
    assert "Traceback" not in r.stderr
    for part in parts:
        assert part in r.stderr, r.stderr


# -- scenario helpers ----------------------------------------------------------------------
SIGMA = 5.0


def straight_line_scenario(n_scans: int = 20, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Four well-separated targets flying straight; plots ``[M,3]`` and truth ``[S,4,2]``."""
    rng = np.random.default_rng(seed)
    start = np.array([[0.0, 0.0], [20_000.0, 0.0], [0.0, 20_000.0], [20_000.0, 20_000.0]])
    vel = np.array([[150.0, 10.0], [-120.0, 80.0], [60.0, -200.0], [-90.0, -90.0]])
    t = np.arange(n_scans, dtype=float) * 2.0               # a 2 s revisit
    truth = start[None] + t[:, None, None] * vel[None]
    z = truth + rng.normal(0.0, SIGMA, truth.shape)
    plots = np.column_stack([np.repeat(t, 4), z.reshape(-1, 2)])
    return plots, truth


def write_plots(path: Path, plots: np.ndarray, header: str = "t_s,x_m,y_m") -> Path:
    with path.open("w") as f:
        f.write(header + "\n")
        f.writelines(f"{t:.3f},{x:.3f},{y:.3f}\n" for t, x, y in plots.tolist())
    return path


def read_tracks(path: Path) -> np.ndarray:
    assert path.read_text().splitlines()[0] == TRACK_HEADER
    return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


# -- bad input: exit 2, file + line + column named, no traceback ----------------------------
BAD = [
    ("t_s,x_m,y_m\n0,1,2\n0,5,abc\n", ["plots.csv: line 3: column y_m: 'abc' is not a number"]),
    ("t_s,x_m\n0,1\n", ["plots.csv: missing column 'y_m' (header has: t_s,x_m)"]),
    ("t_s,x_m,y_m\n0,1,2\n0,1\n", ["plots.csv: line 3: expected 3 fields", "found 2"]),
    ("", ["plots.csv: empty file"]),
    ("t_s,x_m,y_m\n0,1,2\n1,nan,2\n", ["plots.csv: line 3: column x_m: 'nan' is not a finite"]),
    ("t_s,x_m,y_m\n0,1,2\n1,1,-inf\n", ["line 3: column y_m: '-inf' is not a finite number"]),
    ("t_s,x_m,y_m,sigma_m\n0,1,2,-1\n", ["line 2: column sigma_m: -1 must be > 0"]),
]


@pytest.mark.parametrize(("text", "parts"), BAD)
def test_malformed_csv_exits_2_with_line(tmp_path: Path, text: str, parts: list[str]) -> None:
    (tmp_path / "plots.csv").write_text(text)
    r = skyfuse("track", "plots.csv", "-o", "tracks.csv", cwd=tmp_path)
    assert_clean_error(r, 2, *parts)
    assert r.stderr.count("\n") == 1
    assert not (tmp_path / "tracks.csv").exists()


def test_missing_plots_file(tmp_path: Path) -> None:
    r = skyfuse("track", "nope.csv", "-o", "tracks.csv", cwd=tmp_path)
    assert_clean_error(r, 2, "nope.csv: no such file")


@pytest.mark.parametrize(("args", "part"), [
    (["--pd", "2"], "must be in (0, 1]"),
    (["--sigma", "abc"], "'abc' is not a number"),
    (["--confirm", "5/3"], "need 1 <= M <= N"),
    (["--filter", "ukf"], "invalid choice"),
])
def test_bad_options_exit_2(tmp_path: Path, args: list[str], part: str) -> None:
    write_plots(tmp_path / "plots.csv", straight_line_scenario(3)[0])
    r = skyfuse("track", "plots.csv", "-o", "tracks.csv", *args, cwd=tmp_path)
    assert_clean_error(r, 2, part)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    write_plots(tmp_path / "plots.csv", straight_line_scenario(3)[0])
    assert_clean_error(skyfuse("track", "-o", "t.csv", cwd=tmp_path), 2, "missing PLOTS")
    assert_clean_error(skyfuse("track", "plots.csv", "--example", "-o", "t.csv", cwd=tmp_path),
                       2, "not both")
    assert_clean_error(skyfuse("track", "plots.csv", "-o", "no/such/dir/t.csv", cwd=tmp_path),
                       2, "does not exist")
    assert_clean_error(skyfuse("frobnicate", cwd=tmp_path), 2, "invalid choice")


def test_help_explains_columns_and_parameters() -> None:
    r = skyfuse("track", "--help")
    assert r.returncode == 0
    for word in ("t_s", "x_m", "y_m", "sigma_m", "sensor", TRACK_HEADER, "--sigma", "--q",
                 "--pd", "--clutter-density", "--filter", "--assoc", "--confirm",
                 "--progress", "coasting", "tentative"):
        assert word in r.stdout, word


# -- the output contract -------------------------------------------------------------------
def test_straight_line_targets_end_to_end(tmp_path: Path) -> None:
    plots, truth = straight_line_scenario()
    write_plots(tmp_path / "plots.csv", plots)
    r = skyfuse("track", "plots.csv", "-o", "tracks.csv", "--sigma", SIGMA, "--pd", "1",
                "--clutter-density", "1e-9", "--no-progress", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "4 confirmed tracks" in r.stderr
    out = read_tracks(tmp_path / "tracks.csv")
    scan_t = np.unique(plots[:, 0])
    assert set(np.unique(out[:, 0])) <= set(scan_t)
    k = np.searchsorted(scan_t, out[:, 0])
    d = np.hypot(truth[k, :, 0] - out[:, [2]], truth[k, :, 1] - out[:, [3]])
    owner = d.argmin(axis=1)
    err = d[np.arange(len(out)), owner]
    assert err.max() < 5 * SIGMA                            # every row near its truth
    for target in range(4):                                  # one stable id per target
        assert len(np.unique(out[owner == target, 1])) == 1
    assert len(np.unique(out[:, 1])) == 4
    late = out[:, 0] >= scan_t[5]                            # all four tracked in every scan
    assert np.bincount(k[late]).tolist()[5:] == [4] * (len(scan_t) - 5)
    v_true = (truth[1] - truth[0]) / 2.0
    v_err = np.hypot(*(out[late][:, [4, 5]] - v_true[owner[late]]).T)
    assert v_err.max() < 10.0                                # m/s
    assert np.array_equal(out[:, 1], np.round(out[:, 1]))    # integer ids


def test_unsorted_rows_give_the_same_tracks(tmp_path: Path) -> None:
    plots, _ = straight_line_scenario(12)
    write_plots(tmp_path / "sorted.csv", plots)
    shuffled = plots[np.random.default_rng(1).permutation(len(plots))]
    assert not np.array_equal(shuffled[:, 0], np.sort(shuffled[:, 0]))
    write_plots(tmp_path / "shuffled.csv", shuffled)
    for name in ("sorted", "shuffled"):
        r = skyfuse("track", f"{name}.csv", "-o", f"{name}_tracks.csv", "--sigma", SIGMA,
                    cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    a = (tmp_path / "sorted_tracks.csv").read_text()
    assert a.count("\n") > 20
    assert a == (tmp_path / "shuffled_tracks.csv").read_text()


def test_header_only_input_writes_header_only_output(tmp_path: Path) -> None:
    (tmp_path / "plots.csv").write_text("t_s,x_m,y_m\n")
    r = skyfuse("track", "plots.csv", "-o", "tracks.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "tracks.csv").read_text() == TRACK_HEADER + "\n"


def test_parquet_in_and_out_match_csv(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    plots, _ = straight_line_scenario(10)
    write_plots(tmp_path / "plots.csv", plots)
    plots = np.loadtxt(tmp_path / "plots.csv", delimiter=",", skiprows=1)  # the same digits
    pq.write_table(pa.table({"t_s": plots[:, 0], "x_m": plots[:, 1], "y_m": plots[:, 2]}),
                   tmp_path / "plots.parquet")
    for src, dst in (("plots.csv", "a.csv"), ("plots.parquet", "b.parquet")):
        r = skyfuse("track", src, "-o", dst, "--sigma", SIGMA, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    csv_rows = read_tracks(tmp_path / "a.csv")
    t = pq.read_table(tmp_path / "b.parquet")
    assert t.column_names == TRACK_HEADER.split(",")
    pq_rows = np.column_stack([t.column(c).to_numpy() for c in t.column_names])
    assert len(csv_rows) > 10
    np.testing.assert_allclose(pq_rows, csv_rows, atol=0.0006)


def test_sensor_and_sigma_columns_are_used(tmp_path: Path) -> None:
    plots, _ = straight_line_scenario(10)
    p = tmp_path / "plots.csv"
    with p.open("w") as f:
        f.write("sensor,t_s,x_m,y_m,sigma_m,comment\n")
        f.writelines(f"radar-1,{t},{x},{y},{SIGMA},ok\n" for t, x, y in plots.tolist())
    r = skyfuse("track", "plots.csv", "-o", "tracks.csv", "--sigma", "1000", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert len(np.unique(read_tracks(tmp_path / "tracks.csv")[:, 1])) == 4


def test_example_runs_and_summarises(tmp_path: Path) -> None:
    r = skyfuse("track", "--example", "-o", "tracks.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "60 scans" in r.stderr and "position RMS" in r.stderr
    out = read_tracks(tmp_path / "tracks.csv")
    assert 40 <= len(np.unique(out[:, 1])) <= 60
    assert len(np.unique(out[:, 0])) >= 55


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_with_exit_0(tmp_path: Path, sig: signal.Signals) -> None:
    rng = np.random.default_rng(0)
    n, scans = 200, 5000                                     # ≫ the time a signal takes
    t = np.repeat(np.arange(scans, dtype=float), n)
    xy = rng.uniform(0, 3e5, (n * scans, 2))                 # all clutter: many tracks churn
    write_plots(tmp_path / "plots.csv", np.column_stack([t, xy]))
    cmd = [sys.executable, "-m", "skyfuse.cli.main", "track", "plots.csv", "-o", "tracks.csv",
           "--progress", "--clutter-density", "1e-6"]
    with subprocess.Popen(cmd, cwd=tmp_path, stderr=subprocess.PIPE) as proc:
        assert proc.stderr is not None
        fd = proc.stderr.fileno()
        seen, deadline = b"", time.monotonic() + 60
        try:                               # wait until scans are being tracked (tqdm bar
            while not re.search(rb"\b[1-9]\d*/5000", seen) and time.monotonic() < deadline:
                if select.select([fd], [], [], 0.1)[0]:    # past 0/5000: the loop runs)
                    chunk = os.read(fd, 4096)
                    if not chunk:
                        break
                    seen += chunk
            assert re.search(rb"\b[1-9]\d*/5000", seen), seen
            proc.send_signal(sig)
            _, rest = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    text = (seen + rest).decode()
    assert proc.returncode == 0, text
    assert "Traceback" not in text
    assert "interrupted after" in text
    assert (tmp_path / "tracks.csv").read_text().startswith(TRACK_HEADER + "\n")


# -- the CI helper -------------------------------------------------------------------------
def test_require_peer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert require_peer("sh")
    monkeypatch.delenv("SKYFUSE_REQUIRE_PEERS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        require_peer("no-such-peer-xyz")
    monkeypatch.setenv("SKYFUSE_REQUIRE_PEERS", "1")
    with pytest.raises(pytest.fail.Exception, match="SKYFUSE_REQUIRE_PEERS=1"):
        require_peer("no-such-peer-xyz")


def test_unexpected_failure_exits_1_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from skyfuse.cli import main as cli_main
    from skyfuse.cli import track as cli_track

    def broken(*_: object) -> None:
        raise RuntimeError("tracker exploded\nsecond line")

    monkeypatch.setattr(cli_track, "track_plots", broken)
    monkeypatch.delenv("SKYFUSE_DEBUG", raising=False)
    write_plots(tmp_path / "plots.csv", straight_line_scenario(3)[0])
    code = cli_main.main(["track", str(tmp_path / "plots.csv"), "-o", str(tmp_path / "t.csv")])
    err = capsys.readouterr().err
    assert code == 1
    assert err == "skyfuse track: error: RuntimeError: tracker exploded\n"
