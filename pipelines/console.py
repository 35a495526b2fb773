"""What a run prints on this terminal: the pipeline's own progress, not ClearML's chatter.

The controller process and every step it launches here write to one pipe; ``pump`` copies
it to the terminal line by line, dropping lines known to carry nothing for the researcher
(GPU probing on a machine without GPUs, the controller's parameter dumps, progress-bar
redraws). Each task's full log still reaches the server: ClearML captures it inside the
process, before the pipe. ``tabpipe run --verbose`` shows everything.
"""
from __future__ import annotations

import re
from typing import IO, Iterable

# harmless, repeated once per step or per dataset lookup; matched anywhere in the line
NOISE = tuple(re.compile(p) for p in (
    r"Could not fetch GPU stats",
    r"ClearML Monitor: GPU monitoring (failed|is not available)",
    r"Dataset\.get\(\) did not specify alias",  # inside ClearML's own parent lookups
    r"No projects were found with name",  # the first version of a dataset
    r"No repository found, storing script code instead",
    r"Can't get url information for git repo in .*site-packages",
    r"^Launching the next \d+ steps?$",
    r"^Launching step",
    r"^Skipping cached/executed step",
    r"TqdmWarning: clamping frac",
    r"^\s*full_bar = Bar\(frac,$",
    r"^Generating SHA2 hash for \d+ files?$",
    r"^Hash generation completed$",
    r"^\s*\d+%\|.*\| \d+/\d+ \[",  # the file-hashing bar (counts files, not bytes)
    r"A new study created in memory with name",
    r"because of the following error: KeyboardInterrupt\(\)",  # Optuna, on Ctrl-C
    r"Trial \d+ failed with value None\.$",  # Optuna's echo; the step logs each failure itself
    r"^ClearML results page:",  # one per step; the progress lines name each step's task
    r"^ClearML Task: created new task id=",
    r"clearml\.storage - INFO - (Uploading|Downloading|Downloaded)\b",
    r"clearml\.Task - INFO - Completed model upload to",
    r"^Uploading dataset changes \(",
    r"^File compression and upload completed",
    # ClearML's HyperParameterOptimizer (train.trial_tasks); the step logs each trial itself
    r"^Progress report #\d+ completed, sleeping for",
    r"^Updating job performance summary plot/table$",
    r"^OptunaObjective result metric=",
    r"clearml\.automation\.optimization - INFO - Creating new Task:",
    r"clearml\.automation\.optimization - WARNING - Could not find requested metric",
    r"^OptunaObjective: job \w+ reported no objective metric, pruning trial$",
    r"^Pruning trial with duplicate parameters$",
    r"### TASK STOPPED - USER ABORTED - STATUS CHANGED ###",  # a trial task pruned
))
# progress bars (tqdm, ClearML's transfers) off: several steps share the terminal, and a bar
# left without its newline would swallow the next step's line
QUIET_ENV = {"TQDM_DISABLE": "1"}
# the controller prints "Parameters:" and the like, then the value on the next line
HEADER_OF_DUMP = re.compile(r"^(Parameters|Configurations|Overrides):$")


TRACEBACK = "Traceback (most recent call last):"
# lines that continue a traceback block rather than end it (chained exceptions included)
_CONTINUES = re.compile(r"^(\s|$|Traceback \(|During handling of the above|The above exception)")


class ConsoleFilter:
    """Decides line by line what reaches the terminal (stateful: a dump header hides the
    line after it; a traceback is held until its exception line, and dropped whole when
    that is a KeyboardInterrupt, which Ctrl-C makes every step print while the command
    itself says in one sentence what happened)."""

    def __init__(self) -> None:
        self._skip_next = False
        self._traceback: list[str] = []

    def keep(self, line: str) -> list[str]:
        """The lines to show now (a progress bar's last redraw only; a held traceback)."""
        line = line.rstrip("\r\n").rsplit("\r", 1)[-1]
        if self._traceback:
            self._traceback.append(line)
            if _CONTINUES.match(line):
                return []
            block, self._traceback = self._traceback, []
            return [] if line.startswith("KeyboardInterrupt") else block
        if line.startswith(TRACEBACK):
            self._traceback = [line]
            return []
        if self._skip_next:
            self._skip_next = False
            return []
        if HEADER_OF_DUMP.match(line):
            self._skip_next = True
            return []
        if any(p.search(line) for p in NOISE):
            return []
        return [line]

    def finish(self) -> list[str]:
        """What is still held when the stream ends (a traceback cut short)."""
        block, self._traceback = self._traceback, []
        return block


def filtered(lines: Iterable[str]) -> list[str]:
    console = ConsoleFilter()
    return [kept for line in lines for kept in console.keep(line)] + console.finish()


def pump(source: IO[bytes], sink: IO[str], mute=None) -> None:
    """Copy ``source`` to ``sink`` as lines arrive, through a ``ConsoleFilter``; once the
    ``mute`` event is set (Ctrl-C) the rest is read and dropped."""
    console = ConsoleFilter()
    for raw in iter(source.readline, b""):
        _write(sink, console.keep(raw.decode("utf-8", errors="replace")), mute)
    _write(sink, console.finish(), mute)


def _write(sink: IO[str], lines: list[str], mute) -> None:
    if lines and not (mute is not None and mute.is_set()):
        sink.write("".join(line + "\n" for line in lines))
        sink.flush()
