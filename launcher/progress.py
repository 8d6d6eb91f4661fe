"""`make model`'s progress: rasa train's output kept whole in a log, its training epochs shown.

    rasa train ... 2>&1 | python launcher/progress.py var/train.log

Everything read goes to the log unchanged. Of it, the terminal gets the progress bars of the
trainings (tqdm's "Epochs" bars of DIETClassifier and TEDPolicy: epoch, time spent, time left, the
last metrics), named by the component Rasa said it started. On a terminal one line is redrawn in
place (a few times a second at most); elsewhere (CI) a line every EVERY seconds at most per
training, and one when it ends: the log of a CI run stays small whatever tqdm writes.

Standard library only: run by any interpreter (the Makefile uses .venv-rasa's), never imported by
the hotline's code.
"""
from __future__ import annotations

import os
import re
import sys
import time
from typing import BinaryIO, Callable, TextIO

EVERY = 15.0  # seconds between two lines of one training when not on a terminal
REDRAW = 0.25  # seconds between two redraws on a terminal

STARTED = re.compile(r"Starting to train component '([^']+)'")
# tqdm: "Epochs:  20%|██        | 12/60 [00:21<01:25,  1.77s/it, t_loss=3.2, i_acc=0.9]"
EPOCHS = re.compile(r"Epochs:\s*\d+%\|[^|]*\|\s*(\d+)/(\d+)\s*\[([\d:]+)<([\d:?]+)(?:,[^,\]]*)?(?:,\s*(.*?))?\]")


class Progress:
    def __init__(self, out: TextIO, tty: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.out, self.tty, self.clock = out, tty, clock
        self.component = "training"
        self.shown_at = float("-inf")
        self.drawn = False  # a line redrawn in place is on the terminal, without its newline
        self.ended = False  # the current bar's last epoch was shown (tqdm draws it again on close)

    def record(self, text: str) -> None:
        """One line (or one redraw of a progress bar) of rasa's output."""
        if started := STARTED.search(text):
            self.component = started.group(1)
            return
        bar = EPOCHS.search(text)
        if bar is None:
            return
        done, total, spent, left, metrics = bar.groups()
        finished = done == total
        if finished and self.ended:
            return
        self.ended = finished
        now = self.clock()
        if not finished and now - self.shown_at < (REDRAW if self.tty else EVERY):
            return
        self.shown_at = now
        line = f"   {self.component}: epoch {done}/{total}, {spent} spent"
        line += "" if finished else f", {left} left"
        line += f" ({metrics})" if metrics else ""
        if self.tty:
            self.out.write("\r\033[K" + line + ("\n" if finished else ""))
            self.drawn = not finished
        else:
            self.out.write(line + "\n")
        self.out.flush()
        if finished:
            self.shown_at = float("-inf")  # the next training's first epoch is shown at once

    def close(self) -> None:
        if self.drawn:
            self.out.write("\n")
            self.out.flush()


def pump(source: BinaryIO, log: BinaryIO, progress: Progress) -> None:
    """Copy ``source`` to ``log`` as it comes, handing every \\r- or \\n-ended piece to ``progress``."""
    pending = b""
    while chunk := os.read(source.fileno(), 65536):
        log.write(chunk)
        log.flush()
        *pieces, pending = re.split(rb"[\r\n]", pending + chunk)
        for piece in pieces:
            if piece:
                progress.record(piece.decode("utf-8", "replace"))
    if pending:
        progress.record(pending.decode("utf-8", "replace"))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: rasa train ... 2>&1 | python launcher/progress.py LOG", file=sys.stderr)
        return 2
    progress = Progress(sys.stdout, sys.stdout.isatty())
    try:
        with open(argv[0], "wb") as log:
            pump(sys.stdin.buffer, log, progress)
    finally:
        progress.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
