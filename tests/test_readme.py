"""The README's example runs as shown, and its test command is the one CI runs."""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    code = re.findall(r"```python\n(.*?)```", text, re.S)[0]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert "λ =" in out.stdout and "quadrature error" in out.stdout


def test_readme_commands_match_ci():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", readme, re.S)
    assert len(commands) == 2 and "ntk-verify run" in commands[0]
    test_command = commands[1].split("&&")[-1].strip()
    assert test_command in ci
    install = commands[1].split("&&")[-2].strip()  # the same extras as CI: the same tests run
    assert install in ci
