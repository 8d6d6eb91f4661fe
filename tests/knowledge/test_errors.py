"""Files that are not (whole) bulletins: one clear error naming file and line; the store untouched."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.cli import main
from database.engine import make_engine
from knowledge.bulletin.layout import BulletinError
from knowledge.models import Fact
from knowledge.bulletin.parser import parse_bulletin


def _error(data: bytes, name="x.txt") -> BulletinError:
    with pytest.raises(BulletinError) as info:
        parse_bulletin(data, name)
    return info.value


def test_empty_file():
    assert str(_error(b"")) == "x.txt:1: empty file: no bulletin text"
    assert "empty file" in str(_error(b" \n\n\t\n"))


def test_binary_file():
    err = _error(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert err.line == 3 and "binary" in err.message  # the NUL byte stands on the third line


def test_wrong_encoding(seeds):
    gbk = seeds[1].read_text(encoding="utf-8").encode("gb18030")
    err = _error(gbk)
    assert err.line == 1 and "not UTF-8" in err.message


def test_not_a_bulletin():
    err = _error("今天天气很好，我们去公园散步吧。\n明天见。\n".encode())
    assert "not a bulletin" in err.message


def test_truncated_in_the_middle_of_a_table(seeds):
    lines = seeds[0].read_text(encoding="utf-8").split("\n")
    cut = "\n".join(lines[:79] + [lines[79].rsplit("\t", 2)[0]])  # row 8 loses its last two cells
    err = _error(cut.encode(), "cut.txt")
    assert err.line == 80 and "columns" in err.message
    assert str(err).startswith("cut.txt:80: ")


def test_truncated_before_the_end(seeds):
    lines = seeds[1].read_text(encoding="utf-8").split("\n")
    err = _error("\n".join(lines[:600]).encode(), "cut.txt")
    assert "truncated" in err.message


def test_corrupted_number(seeds):
    bad = seeds[0].read_text(encoding="utf-8").replace("\t125224\t", "\t12S224\t")
    err = _error(bad.encode(), "bad.txt")
    assert err.line == 73 and "'12S224' is not a number" in err.message


def test_control_characters(seeds):
    bad = seeds[0].read_text(encoding="utf-8").replace("南京鼓楼医院", "南京鼓\x07楼医院", 1)
    assert "control characters" in _error(bad.encode()).message


def _facts(url: str) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            return s.scalar(select(func.count()).select_from(Fact))
    finally:
        engine.dispose()


def test_cli_rejects_a_bad_file_and_leaves_the_store_as_it_was(tmp_path, seeds, capsys):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["--database-url", url, "ingest", str(seeds[1])]) == 0
    before = _facts(url)
    truncated = tmp_path / "truncated.txt"
    truncated.write_text("\n".join(seeds[0].read_text(encoding="utf-8").split("\n")[:100]), encoding="utf-8")
    capsys.readouterr()
    # A good file and a bad one together: nothing of either is written.
    assert main(["--database-url", url, "ingest", str(seeds[0]), str(truncated)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"error: {truncated}:") and "truncated" in err[0]
    assert err[-1] == "nothing was ingested: the store is unchanged"
    assert _facts(url) == before


def test_cli_missing_and_oversized_files(tmp_path, capsys, empty_url):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as f:
        f.truncate(21 * 1024 * 1024)
    assert main(["--database-url", empty_url, "ingest", str(tmp_path / "nope.txt"), str(huge)]) == 1
    err = capsys.readouterr().err
    assert "nope.txt:0: no such file" in err and "too large" in err
