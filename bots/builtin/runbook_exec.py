"""Running an admin-defined runbook action: typed parameters, argv, no shell.

Parameter values are validated against their declared types before anything
runs; each `{name}` placeholder is replaced inside one argv element, and the
program itself (argv[0]) can never come from a parameter. The child gets a
fixed working directory, a timeout (its whole process group is killed), and
only an allow-listed environment. Output is read as it comes and reported
through a callback at a bounded rate; long output keeps its head and tail.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from string import Formatter
from typing import Any

TYPES = ("str", "int", "choice")
SAFE_STR = r"[A-Za-z0-9][A-Za-z0-9._:/@+,=-]{0,199}"  # no leading dash: never an option
BASE_ENV = ("PATH", "LANG", "LC_ALL", "TZ")
HEAD_LINES, TAIL_LINES, MAX_CHARS = 20, 40, 3000


def placeholders(template: str) -> list[str]:
    names = []
    for _, field, spec, conv in Formatter().parse(template):
        if field is None:
            continue
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", field) or spec or conv:
            raise ValueError(f"argv placeholder {{{field}}} must be a plain {{name}}")
        names.append(field)
    return names


def check_action(action: Any) -> None:
    """Validate an action's definition; raise ValueError with the reason."""
    argv, params = action.argv, action.params
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise ValueError("argv must be a non-empty list of strings")
    if not isinstance(params, dict):
        raise ValueError("params must be an object of name -> {type, ...}")
    if placeholders(argv[0]):
        raise ValueError("the program (argv[0]) must be fixed, not a parameter")
    used = {n for a in argv for n in placeholders(a)}
    for name, spec in params.items():
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,39}", name):
            raise ValueError(f"parameter name {name!r}: use lower-case letters, digits, _")
        if not isinstance(spec, dict) or spec.get("type", "str") not in TYPES:
            raise ValueError(f"parameter {name}: type is one of {', '.join(TYPES)}")
        if set(spec) - {"type", "choices", "pattern", "required", "default", "min", "max"}:
            raise ValueError(f"parameter {name}: unknown keys {sorted(set(spec) - {'type'})}")
        if spec.get("type") == "choice" and not (
                isinstance(spec.get("choices"), list) and spec["choices"]
                and all(isinstance(c, str) and re.fullmatch(SAFE_STR, c)
                        for c in spec["choices"])):
            raise ValueError(f"parameter {name}: choices must be a list of plain words")
        if "pattern" in spec:
            try:
                re.compile(spec["pattern"])
            except (re.error, TypeError):
                raise ValueError(f"parameter {name}: pattern is not a regular expression") \
                    from None
        if "default" in spec:
            validate_value(name, spec, str(spec["default"]))
    unknown = used - set(params)
    if unknown:
        raise ValueError(f"argv uses undeclared parameters: {', '.join(sorted(unknown))}")
    if not isinstance(action.env, dict) or not all(
            isinstance(k, str) and re.fullmatch(r"[A-Z_][A-Z0-9_]*", k) and isinstance(v, str)
            for k, v in action.env.items()):
        raise ValueError("env must map UPPER_CASE names to strings")
    if action.cwd and not os.path.isabs(action.cwd):
        raise ValueError("cwd must be an absolute path")
    if not 1 <= int(action.timeout_seconds) <= 3600:
        raise ValueError("timeout_seconds is between 1 and 3600")
    from bots.grammar import GrammarError
    from bots.sdk import _principals

    if action.run_policy:
        try:
            _principals(action.run_policy, "run_policy")
        except GrammarError as exc:
            raise ValueError(str(exc)) from None


def validate_value(name: str, spec: dict[str, Any], value: str) -> str:
    kind = spec.get("type", "str")
    if kind == "int":
        if not re.fullmatch(r"-?\d{1,12}", value):
            raise ValueError(f"{name} must be a whole number, not {value!r}")
        n = int(value)
        if "min" in spec and n < spec["min"] or "max" in spec and n > spec["max"]:
            raise ValueError(f"{name} must be between {spec.get('min', '-∞')} and "
                             f"{spec.get('max', '∞')}")
        return str(n)
    if kind == "choice":
        choices = spec["choices"]
        found = next((c for c in choices if c.lower() == value.lower()), None)
        if found is None:
            raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
        return found
    if spec.get("pattern"):  # the admin's pattern, but never an option or a control char
        if (not re.fullmatch(spec["pattern"], value) or value.startswith("-")
                or any(ord(c) < 32 for c in value) or len(value) > 1000):
            raise ValueError(f"{name} must match {spec['pattern']} (and not start with -)")
        return value
    if not re.fullmatch(SAFE_STR, value):
        raise ValueError(f"{name} may hold letters, digits and . _ : / @ + , = - "
                         f"(not first), at most 200 characters; {value!r} is refused")
    return value


def bind(action: Any, given: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The argv with validated values; raises ValueError naming the bad parameter."""
    params: dict[str, dict[str, Any]] = action.params or {}
    unknown = sorted(set(given) - set(params))
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r}; this action takes "
                         f"{', '.join(sorted(params)) or 'no parameters'}")
    values: dict[str, str] = {}
    for name, spec in params.items():
        if name in given:
            values[name] = validate_value(name, spec, given[name])
        elif "default" in spec:
            values[name] = str(spec["default"])
        elif spec.get("required", True):
            raise ValueError(f"missing {name}=<{spec.get('type', 'str')}>")
        else:
            values[name] = ""
    argv = [a.format(**values) for a in action.argv]
    return [a for i, a in enumerate(argv) if a or not action.argv[i].startswith("{")], values


def environment(action: Any) -> dict[str, str]:
    env = {k: os.environ[k] for k in BASE_ENV if k in os.environ}
    env.update(action.env or {})
    return env


def truncate(text: str) -> str:
    """Keep the head and the tail of long output, saying how much was left out."""
    lines = text.splitlines()
    if len(lines) > HEAD_LINES + TAIL_LINES:
        cut = len(lines) - HEAD_LINES - TAIL_LINES
        lines = [*lines[:HEAD_LINES], f"… {cut} lines omitted …", *lines[-TAIL_LINES:]]
    text = "\n".join(lines)
    if len(text) > MAX_CHARS:
        half = MAX_CHARS // 2
        text = f"{text[:half]}\n… {len(text) - MAX_CHARS} characters omitted …\n{text[-half:]}"
    return text.replace("```", "ˋˋˋ")


@dataclass
class Result:
    exit_code: int | None  # None: killed (timeout or cancel)
    output: str
    seconds: float
    timed_out: bool = False
    cancelled: bool = False


def run(argv: list[str], *, cwd: str | None, env: dict[str, str], timeout: float,
        on_output: Callable[[str], None], cancelled: Callable[[], bool],
        every: float = 2.0) -> Result:
    """Run argv (no shell), calling on_output(all output so far) at most every `every` s."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=cwd or None, env=env,  # noqa: S603 (validated argv)
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, shell=False)
    except OSError as exc:
        return Result(127, f"could not start {argv[0]}: {exc.strerror}", 0.0)
    assert proc.stdout is not None
    chunks: list[bytes] = []
    size = 0
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    last_report = time.monotonic()
    reported = 0
    timed_out = was_cancelled = False
    try:
        while True:
            for _key, _ in sel.select(timeout=0.2):
                data = os.read(proc.stdout.fileno(), 65536)
                if not data:
                    sel.unregister(proc.stdout)
                    break
                if size < 4_000_000:  # keep at most 4 MB; the tail is re-read below
                    chunks.append(data)
                else:
                    chunks[-1] = (chunks[-1] + data)[-200_000:]
                size += len(data)
            if not sel.get_map():
                break
            elapsed = time.monotonic() - started
            if elapsed > timeout:
                timed_out = True
                break
            if cancelled():
                was_cancelled = True
                break
            if size != reported and time.monotonic() - last_report >= every:
                on_output(b"".join(chunks).decode("utf-8", "replace"))
                last_report, reported = time.monotonic(), size
    finally:
        if timed_out or was_cancelled:
            _kill(proc)
        sel.close()
    try:
        code: int | None = proc.wait(timeout=max(0.1, timeout - (time.monotonic() - started)))
    except subprocess.TimeoutExpired:
        _kill(proc)
        timed_out, code = True, None
    proc.stdout.close()
    if timed_out or was_cancelled:
        code = None
    return Result(code, b"".join(chunks).decode("utf-8", "replace"),
                  time.monotonic() - started, timed_out, was_cancelled)


def _kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
