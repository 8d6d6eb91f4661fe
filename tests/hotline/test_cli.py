"""The `hotline` command: ingest, check, facts, hospitals, as a user runs them."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

from hotline.cli import main


def test_ingest_facts_and_hospitals(tmp_path, seeds, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--database-url", url, "ingest", *map(str, seeds)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("000_68f205511abf21ee.txt: 《南京卫生信息化简报》2024年第1期, period 2023: ")
    assert out[0].endswith(": added") and out[1].endswith(": added")

    assert main(["--database-url", url, "ingest", *map(str, seeds)]) == 0
    assert all(line.endswith(": unchanged") for line in capsys.readouterr().out.splitlines())
    # After a change to the parser or the reference data: the same files are read anew.
    assert main(["--database-url", url, "ingest", "--refresh", *map(str, seeds)]) == 0
    assert all(line.endswith(": replaced") for line in capsys.readouterr().out.splitlines())

    assert main(["--database-url", url, "facts", "--format", "jsonl"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"period", "subject", "measure", "value", "unit", "source"} <= set(records[0])
    children = [r for r in records if r["subject"] == "南京市儿童医院" and r["measure"] == "12320在线预约"]
    assert {(r["period"], r["value"], r["unit"], r["source"]) for r in children} == {
        ("2023", "41208", "次", "000_68f205511abf21ee.txt"),
        ("2019-10", "9513", "次", "001_579619885f2506f0.txt"),
    }

    assert main(["--database-url", url, "hospitals", "--format", "json"]) == 0
    hospitals = {h["name"]: h for h in json.loads(capsys.readouterr().out)}
    assert "省人医" in hospitals["江苏省人民医院"]["aliases"]
    assert hospitals["南京市口腔医院"]["ambiguous"] == {"口腔医院": ["南京市口腔医院", "江苏省口腔医院"]}


def test_facts_filtered_by_alias(tmp_path, seeds, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    main(["--database-url", url, "ingest", *map(str, seeds)])
    capsys.readouterr()
    assert main(["--database-url", url, "facts", "--subject", "省人医", "--period", "2019-10",
                 "--measure", "小计"]) == 0
    assert capsys.readouterr().out.split("\t")[:4] == ["2019-10", "江苏省人民医院", "小计", "901次"]
    assert main(["--database-url", url, "facts", "--subject", "火星医院"]) == 1
    assert "火星医院" in capsys.readouterr().err


def test_check_lists_every_finding(tmp_path, seeds, capsys):
    assert main(["check", *map(str, seeds)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("001_579619885f2506f0.txt:301: warning: duplicate_row:") for line in out)
    assert any(line.startswith("000_68f205511abf21ee.txt:65: warning: out_of_scale:") for line in out)
    assert main(["check", "--strict", str(seeds[1])]) == 1
    # Findings of ingested bulletins are kept in the store.
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    main(["--database-url", url, "ingest", *map(str, seeds)])
    capsys.readouterr()
    assert main(["--database-url", url, "check"]) == 0
    assert sorted(capsys.readouterr().out.splitlines()) == sorted(out)


def test_console_script_is_installed(tmp_path, seeds):
    """`hotline` as a user types it, with DATABASE_URL from the environment."""
    exe = shutil.which("hotline", path=os.path.dirname(sys.executable))
    assert exe, "the hotline console script is not installed in this environment"
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'env.db'}")
    done = subprocess.run([exe, "ingest", str(seeds[1])], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "env.db").is_file()
    done = subprocess.run([exe, "facts", "--subject", "12320", "--measure", "受理咨询电话"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert "145709个" in done.stdout


def test_agents_register_list_and_move_work_orders(tmp_path, capsys):
    """A 12345 work order registered, listed with its phone masked, shown in clear to its handler,
    moved open → in_progress → closed with the history; a wrong move is refused."""
    db = ["--database-url", f"sqlite:///{tmp_path / 'cli.db'}"]
    assert main([*db, "work-order", "--kind", "市12345工单", "--hospital", "南京鼓楼医院", "--description",
                 "市民反映排队时间过长", "--occurred", "11月20日上午", "--phone", "13912345678",
                 "--actor", "agent-wang"]) == 0
    number = capsys.readouterr().out.strip()
    assert re.fullmatch(r"TS-\d{8}-\d{4}", number)
    assert main([*db, "tickets", "--kind", "市12345工单"]) == 0
    listed = capsys.readouterr().out
    assert number in listed and "139****5678" in listed and "13912345678" not in listed
    assert main([*db, "ticket", number, "--status", "closed", "--actor", "agent-wang"]) == 1
    assert "error" in capsys.readouterr().err
    assert main([*db, "ticket", number, "--status", "in_progress", "--actor", "agent-wang"]) == 0
    assert main([*db, "ticket", number, "--status", "closed", "--actor", "agent-li", "--note", "已回复"]) == 0
    shown = capsys.readouterr().out
    assert "closed" in shown and "联系电话：13912345678" in shown
    assert "agent-li: in_progress → closed（已回复）" in shown
    assert main([*db, "ticket", "TS-20000101-0001"]) == 1
