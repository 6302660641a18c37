"""The README's commands, run as a reader would, in order (README.md, "Contributing").

Every ```console block of the README is run, top to bottom: each ``$ `` line is one command, run
by bash in one temporary folder (a ``cd`` carries over to the next command), and the lines under
it, up to the next ``$ `` line, are output that must appear in that order among the lines the
command printed, ``…`` standing for any text. Every command must exit 0. ```sh blocks are
set-up and reference, shown and not run here (the set-up ones are what .ci/run and
tests/test_wheel.py run).

The commands run this checkout's ``ccf`` against a database of the test session's server
(CCF_DATABASE_URL), in place of the embedded server the README's reader has: a second embedded
server would cost its start-up (about 4 s of a first demo's 17 s), and the wheel on the embedded
server is test_wheel.py's. As for the reader, the quick start's ``ccf demo`` has run before the
tour: the database is a copy of the test run's ``cli_demo`` (conftest.py), in which ``ccf demo``
has run (three times, the first one making runs 1 and 2 that the tour reads), so that this test
does not pay for a demo of its own.

A command made of ``ccf …`` and ``cd …`` only, joined by ``&&`` (every command of the tour
today), runs in this process through ``cli.main``, as the ``ccf`` script calls it, in the folder
the tour is in: a process per command would pay Python's start, ccf's imports and the library's
check each time (the installed script itself is test_wheel.py's). Any other shell line runs in
bash, as a reader's shell would run it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)


@dataclass(frozen=True)
class Command:
    line: int  # its line in the README
    text: str
    expected: tuple[str, ...]  # output lines, "…" for any text


def console_commands(markdown: str) -> list[Command]:
    """The ``$`` commands of the ```console blocks, in order, with the output shown under each."""
    out: list[Command] = []
    for block in FENCE.finditer(markdown):
        if block.group(1) != "console":
            continue
        first = markdown.count("\n", 0, block.start(2)) + 1
        for offset, line in enumerate(block.group(2).splitlines()):
            if line.startswith("$ "):
                out.append(Command(first + offset, line[2:], ()))
            elif out and line.strip() and out[-1].line >= first:
                last = out[-1]
                out[-1] = Command(last.line, last.text, (*last.expected, line.rstrip()))
    return out


def _pattern(expected: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in expected.split("…")) + "$")


def missing_output(expected: tuple[str, ...], printed: str) -> str | None:
    """The first expected line not found, in order, among the printed lines; None if all are."""
    lines = [line.rstrip() for line in printed.splitlines()]
    at = 0
    for want in expected:
        if want == "…":
            continue
        pattern = _pattern(want)
        while at < len(lines) and not pattern.match(lines[at]):
            at += 1
        if at == len(lines):
            return want
        at += 1
    return None


def test_the_console_blocks_are_read_as_documented():
    text = "\n".join(["```sh", "$ not run", "```", "```console", "$ ccf demo", "…", "Total: 1 kg …",
                      "$ ccf runs list", "```"])
    assert console_commands(text) == [Command(5, "ccf demo", ("…", "Total: 1 kg …")), Command(8, "ccf runs list", ())]
    assert missing_output(("…", "Total: 1 kg …"), "a\nTotal: 1 kg CO2e (x)\n") is None
    assert missing_output(("b", "a"), "a\nb\n") == "a"  # in order
    assert missing_output(("Total: 2 kg …",), "Total: 1 kg CO2e\n") == "Total: 2 kg …"


def in_process(text: str) -> list[list[str]] | None:
    """The command's steps (each ``ccf …`` or ``cd DIR``, in order) when it is made of those only,
    joined by ``&&``; None when it needs a shell (pipes, variables, globs, other programs)."""
    if any(c in text for c in "|;<>$`*?~()\\") or "||" in text:
        return None
    steps: list[list[str]] = [[]]
    for word in shlex.split(text):
        if word == "&&":
            steps.append([])
        else:
            steps[-1].append(word)
    if all(step[:1] == ["ccf"] or (step[:1] == ["cd"] and len(step) == 2) for step in steps):
        return steps
    return None


def test_tour_commands_run_in_process_only_when_they_are_ccf_and_cd():
    assert in_process("ccf init acme && cd acme") == [["ccf", "init", "acme"], ["cd", "acme"]]
    assert in_process('ccf factors search "Electricity: UK" --limit 3') == \
        [["ccf", "factors", "search", "Electricity: UK", "--limit", "3"]]
    for shell in ("ccf runs list | head", "cd ~/acme", "ls && ccf demo", "ccf demo > out.txt", "ccf demo; ccf check",
                  "cd a b", "ccf demo || true", "ccf report $RUN"):
        assert in_process(shell) is None, shell


def test_every_readme_command_runs_in_order_and_prints_what_the_readme_shows(cli_demo_url, tmp_path, monkeypatch, capsys):
    from ccf.engine.cli import main

    commands = console_commands(README.read_text("utf-8"))
    firsts = [c.text.split()[:2] for c in commands]
    assert firsts[0] == ["ccf", "init"] and ["ccf", "demo"] in firsts[:4], \
        "the README's tour starts in a new project (ccf init) and runs ccf demo there"
    assert len(commands) >= 10
    for name in [k for k in os.environ if k.startswith("CCF_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CCF_DATABASE_URL", cli_demo_url)
    monkeypatch.setenv("CCF_HOME", str(tmp_path / "home"))
    cwd = tmp_path / "work"
    cwd.mkdir()
    state = tmp_path / "cwd"
    for c in commands:
        steps = in_process(c.text)
        if steps is None:
            # the command, then where it left the shell: the next command starts there
            script = f"{c.text}\nrc=$?\npwd > {state}\nexit $rc\n"
            done = subprocess.run(["bash", "-c", script], cwd=cwd, env=dict(os.environ), capture_output=True,
                                  text=True, timeout=600)
            code, out, err = done.returncode, done.stdout, done.stderr
            cwd = Path(state.read_text().strip())
        else:
            code, out, err = 0, "", ""
            for step in steps:
                if step[0] == "cd":
                    cwd = cwd / step[1]
                    continue
                monkeypatch.chdir(cwd)
                try:
                    code = main(step[1:])
                except SystemExit as exit_:  # argparse's usage errors
                    code = exit_.code
                printed = capsys.readouterr()
                out, err = out + printed.out, err + printed.err
                if code != 0:
                    break
        assert code == 0, f"README.md:{c.line}: {c.text}\n{out[-2000:]}{err[-2000:]}"
        missing = missing_output(c.expected, out + err)
        assert missing is None, f"README.md:{c.line}: {c.text} did not print {missing!r}; it printed:\n{out[-3000:]}"
