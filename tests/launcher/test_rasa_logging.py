"""What residents write stays out of the processes' logs: every Rasa process gets rasa-logging.yml,
which silences the Rasa loggers that write message text, and the launcher's log files are private."""
from __future__ import annotations

import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hotline.settings import Settings
from launcher import processes
from launcher.stack import RASA_PYTHON, Service, Stack

ROOT = Path(__file__).resolve().parents[2]
PHONE = "13912345678"

# Rasa's own code paths that log a message's text: the REST channel when its handler fails or is
# cancelled (a client's timeout), the story reader on a "/" message it cannot read, the warning it
# raises for one. Then a line that must still be logged.
PROBE = textwrap.dedent(f"""
    import asyncio, logging, sys
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog
    from bot.server.__main__ import _quiet_warnings

    _quiet_warnings()
    configure_logging_and_warnings(logging.INFO, sys.argv[1], warn_only_once=True, filter_repeated_logs=True)
    configure_structlog(logging.INFO)

    from rasa.core.channels.rest import RestInput
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.message import Message

    class Request:
        json = {{"sender": "s", "message": "我的电话 {PHONE}"}}
        args = {{}}

    async def main():
        async def fails(message):
            raise RuntimeError("the handler failed")

        async def cancelled(message):
            raise asyncio.CancelledError()

        for on_new_message in (fails, cancelled):
            blueprint = RestInput().blueprint(on_new_message)
            handler = next(r.handler for r in blueprint._future_routes if r.uri.endswith("/webhook"))
            await handler(Request())
        for said in ("/@{PHONE}", "/nointent {PHONE}"):
            YAMLStoryReader.unpack_regex_message(Message(data={{"text": said}}), domain=Domain.empty())
        logging.getLogger("rasa.core.processor").warning("still logged")

    asyncio.run(main())
""")


def test_rasas_loggers_do_not_write_what_residents_said():
    if not RASA_PYTHON.is_file():
        pytest.skip(".venv-rasa is not built (make setup)")
    done = subprocess.run([str(RASA_PYTHON), "-c", PROBE, str(processes.LOGGING_CONFIG)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout + done.stderr
    assert "still logged" in out  # the other loggers still write
    assert PHONE not in out, out[-3000:]


@pytest.mark.parametrize("rabbitmq", [None, "amqp://guest:guest@127.0.0.1:5672"])
def test_every_rasa_process_gets_the_logging_config(tmp_path, rabbitmq):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", var_dir=tmp_path, rabbitmq_url=rabbitmq,
                        tracker_store_url="postgresql://h/r" if rabbitmq else None)
    stack = Stack(settings, extra_rasa_ports=(6006,), base_env={})
    rasa = [s for s in stack._services() if s.name.startswith(processes.RASA.name)]
    assert len(rasa) == 2
    for service in rasa:
        i = service.argv.index("--logging-config-file")
        assert Path(service.argv[i + 1]) == processes.LOGGING_CONFIG and processes.LOGGING_CONFIG.is_file()


def test_the_launchers_logs_are_readable_by_their_owner_only(tmp_path):
    log = tmp_path / "log" / "x.log"
    service = Service("probe", [sys.executable, "-c", "print('hello')"], {}, "http://127.0.0.1:1/", log)
    service.start()
    service.process.wait(timeout=30)
    service.close_log()
    assert log.read_text().strip() == "hello"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
