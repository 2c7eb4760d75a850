"""Commands that render nothing must not pay for WeasyPrint (about a second to import).

The commands run one after the other in a fresh interpreter, which reports after
each one whether WeasyPrint (or the PDF engine that wraps it) has been imported.
"""
import json
import subprocess
import sys

from conftest import write_kit

HEAVY = ("weasyprint", "kit.pdf", "kit.engine")

COMMANDS = [
    ["--help"],
    ["build", "--help"],
    ["preview", "--help"],
    ["check"],
    ["check", "--strict"],
    ["check", "--format", "json"],
    ["new", "session", "fixture", "A new session"],
    ["add", "anecdote", "1", "--segment", "Recap", "--title", "T", "--from-file", "story.md"],
    ["announce", "1"],
    ["export"],
    ["init", "fresh-kit"],
]

PROBE = """\
import json, sys
from kit.cli import main
report = []
for args in json.loads(sys.argv[1]):
    code = 0
    try:
        main(args, standalone_mode=False)
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:
        code = repr(exc)
    report.append([args, code, sorted(m for m in json.loads(sys.argv[2]) if m in sys.modules)])
print(json.dumps(report))
"""


def probe(root, commands, prelude: str = "") -> list:
    done = subprocess.run([sys.executable, "-c", prelude + PROBE, json.dumps(commands), json.dumps(HEAVY)],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_commands_that_render_nothing_do_not_import_weasyprint(tmp_path):
    root = write_kit(tmp_path / "kit", {"story.md": "A story.\n"})
    report = probe(root, COMMANDS)
    assert [args for args, _, _ in report] == COMMANDS
    for args, code, heavy in report:
        assert code in (0, None), (args, code)  # the command ran and succeeded
        assert heavy == [], f"kit {' '.join(args)} imported {heavy}"


def test_the_probe_notices_weasyprint(tmp_path):
    # Guards the test above: an import of the PDF engine is seen.
    report = probe(tmp_path, [["--help"]], prelude="import kit.pdf\n")
    assert "weasyprint" in report[0][2]
