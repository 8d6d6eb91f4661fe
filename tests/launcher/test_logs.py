"""The launcher's logs (var/log, make run): private, and kept to a known size while the processes
write on (launcher/stack.py ``Service.rotate``, called by the supervisor every second)."""
from __future__ import annotations

import stat
import sys
import time

from hotline.settings import Settings
from launcher.stack import Service

# A process that writes a numbered line every millisecond, as a busy server's log grows.
WRITER = "import itertools, sys, time\nfor n in itertools.count():\n    print(f'line {n:08d}', flush=True)\n    time.sleep(0.001)\n"


def _wait_for_size(path, size: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while path.stat().st_size < size:
        assert time.monotonic() < deadline, f"{path} did not grow to {size} bytes"
        time.sleep(0.05)


def test_a_growing_log_is_rotated_and_the_process_writes_on_at_its_start(tmp_path):
    log = tmp_path / "log" / "app.log"
    service = Service("writer", [sys.executable, "-c", WRITER], {}, "http://127.0.0.1:1/", log)
    service.start()
    try:
        for round_ in range(3):  # three rotations: .1, .2 and .3, the oldest beyond two dropped
            _wait_for_size(log, 4000)
            assert service.rotate(max_bytes=3000, backups=2)
        _wait_for_size(log, 200)
    finally:
        service.signal(15)
        service.process.wait(10)
        service.close_log()
    names = sorted(p.name for p in log.parent.iterdir())
    assert names == ["app.log", "app.log.1", "app.log.2"]
    for path in log.parent.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    content = log.read_bytes()
    assert b"\0" not in content, "the process wrote at its old offset: a sparse file"
    # Newer lines in newer files.
    first = lambda p: int(p.read_text().split("line ")[2].split()[0])  # noqa: E731 - second line: whole
    assert first(log.parent / "app.log.2") < first(log.parent / "app.log.1") < first(log)
    assert not service.rotate(max_bytes=10**9, backups=2)  # under the size: left alone


def test_the_sizes_are_settings_with_sane_defaults():
    defaults = Settings.from_env({})
    assert (defaults.log_max_mb, defaults.log_backups) == (20, 5)
    chosen = Settings.from_env({"HOTLINE_LOG_MAX_MB": "5", "HOTLINE_LOG_BACKUPS": "2"})
    assert (chosen.log_max_mb, chosen.log_backups) == (5, 2)
