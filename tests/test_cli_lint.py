"""`rulebot lint` end to end: exit codes (0 clean, 1 errors, 2 could not run), the text and JSON
products alone on stdout, the summary on stderr, --strict, folders, and the installed console
script run from another folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from rulebot.cli import app

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "lang" / "cases"
KEYS = ["file", "line", "column", "end_line", "end_column", "severity", "code", "message", "hint"]
runner = CliRunner()

CLEAN = "symbol: BTCUSDT\nrisk: {max_position: 0.05}\nrules:\n  - when rsi(14) < 30 and position == 0 then buy 0.01\n"
ERROR = "symbol: BTCUSDT\nrisk: {max_position: 0.05}\nrules:\n  - when rsii(14) < 30 and position == 0 then buy 0.01\n"
WARNING = "symbol: BTCUSDT\nrisk: {max_position: 0.05}\nrules:\n  - when rsi(14) < 30 then buy 0.01\n"


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_clean_file_exits_0_with_nothing_on_stdout(tmp_path: Path) -> None:
    result = runner.invoke(app, ["lint", write(tmp_path, "ok.yaml", CLEAN)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == "0 errors, 0 warnings in 1 file"


def test_error_exits_1_with_the_diagnostic_on_stdout_and_the_summary_on_stderr(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", ERROR)
    result = runner.invoke(app, ["lint", path])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:4:10: error E203 unknown indicator 'rsii'",
        "  |",
        "4 |   - when rsii(14) < 30 and position == 0 then buy 0.01",
        "  |          ^^^^ not an indicator",
        "  = hint: did you mean 'rsi'?",
    ]
    assert result.stderr.strip() == "1 error, 0 warnings in 1 file"


def test_json_is_a_list_of_objects_with_exactly_the_documented_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", ERROR + "  - when position == 0 and rsi(14) > 70 then close\n")
    result = runner.invoke(app, ["lint", "--format", "json", path])
    assert result.exit_code == 1
    found = json.loads(result.stdout)  # stdout holds the JSON list and nothing else
    assert isinstance(found, list) and len(found) == 2
    for item in found:
        assert list(item) == KEYS
        assert item["file"] == path
        assert all(isinstance(item[k], int) and item[k] >= 1 for k in ("line", "column", "end_line", "end_column"))
        assert (item["end_line"], item["end_column"]) > (item["line"], item["column"])
        assert item["severity"] in ("error", "warning")
        assert item["hint"] is None or isinstance(item["hint"], str)
    assert found[0] == {"file": path, "line": 4, "column": 10, "end_line": 4, "end_column": 14,
                        "severity": "error", "code": "E203", "message": "unknown indicator 'rsii'",
                        "hint": "did you mean 'rsi'?"}
    assert found[1]["code"] == "W106" and found[1]["severity"] == "warning"
    assert result.stderr.strip() == "1 error, 1 warning in 1 file"


def test_json_of_a_clean_file_is_an_empty_list(tmp_path: Path) -> None:
    result = runner.invoke(app, ["lint", "-f", "json", write(tmp_path, "ok.yaml", CLEAN)])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_warnings_alone_exit_0_and_strict_makes_them_errors_with_the_same_code(tmp_path: Path) -> None:
    path = write(tmp_path, "warn.yaml", WARNING)
    plain = runner.invoke(app, ["lint", "--format", "json", path])
    assert plain.exit_code == 0
    assert [(d["code"], d["severity"]) for d in json.loads(plain.stdout)] == [("W101", "warning")]

    strict = runner.invoke(app, ["lint", "--strict", "--format", "json", path])
    assert strict.exit_code == 1
    assert [(d["code"], d["severity"]) for d in json.loads(strict.stdout)] == [("W101", "error")]
    assert strict.stderr.strip() == "1 error, 0 warnings in 1 file"

    text = runner.invoke(app, ["lint", "--strict", path])
    assert text.exit_code == 1
    assert text.stdout.startswith(f"{path}:4:28: error W101 ")


def test_a_folder_is_searched_for_yaml_and_yml_files(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    write(folder, "a.yaml", CLEAN)
    bad = write(folder, "nested/b.yml", ERROR)
    write(folder, "notes.txt", "not a rule file: when nothing then nothing")
    result = runner.invoke(app, ["lint", "--format", "json", str(folder)])
    assert result.exit_code == 1
    assert [(d["file"], d["code"]) for d in json.loads(result.stdout)] == [(bad, "E203")]
    assert result.stderr.strip() == "1 error, 0 warnings in 2 files"


def test_several_paths_are_linted_together(tmp_path: Path) -> None:
    first = write(tmp_path, "one.yaml", ERROR)
    second = write(tmp_path, "two.yaml", WARNING)
    result = runner.invoke(app, ["lint", "--format", "json", first, second])
    assert result.exit_code == 1
    assert [(d["file"], d["code"]) for d in json.loads(result.stdout)] == [(first, "E203"), (second, "W101")]


def test_a_missing_path_exits_2_and_says_so_on_stderr(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    result = runner.invoke(app, ["lint", missing])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{missing}: no such file or folder" in result.stderr

    # one unreadable path is enough for 2, even next to a file with errors
    mixed = runner.invoke(app, ["lint", "--format", "json", write(tmp_path, "bad.yaml", ERROR), missing])
    assert mixed.exit_code == 2
    assert [d["code"] for d in json.loads(mixed.stdout)] == ["E203"]


def test_a_path_that_looks_like_markup_is_printed_as_written(tmp_path: Path) -> None:
    # rich would read "[/red]" in a file name as a closing tag and fail
    missing = str(tmp_path / "x[/red]y[bold].yaml")
    result = runner.invoke(app, ["lint", missing])
    assert result.exit_code == 2
    assert f"{missing}: no such file or folder" in result.stderr


def test_a_folder_without_rule_files_exits_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["lint", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "holds no .yaml or .yml rule files" in result.stderr


def test_a_file_with_bad_bytes_is_a_lint_error_not_a_failure_to_run(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"symbol: BTCUSDT\x00\nrules: []\n")
    result = runner.invoke(app, ["lint", "--format", "json", str(path)])
    assert result.exit_code == 1
    assert [d["code"] for d in json.loads(result.stdout)] == ["E101"]


def test_an_unknown_format_is_a_usage_error() -> None:
    result = runner.invoke(app, ["lint", "--format", "yaml", str(CASES / "valid")])
    assert result.exit_code == 2


def test_the_corpus_folders_exit_as_their_names_say() -> None:
    valid = runner.invoke(app, ["lint", str(CASES / "valid")])
    assert valid.exit_code == 0, valid.stdout
    assert " 0 errors, " in " " + valid.stderr
    invalid = runner.invoke(app, ["lint", "--format", "json", str(CASES / "invalid")])
    assert invalid.exit_code == 1
    assert {d["file"] for d in json.loads(invalid.stdout)} == {
        str(p) for p in (CASES / "invalid").glob("*.yaml")}


def test_installed_console_script_runs_from_another_folder(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "rulebot"
    assert script.exists(), "the rulebot console script is not installed next to this Python"
    write(tmp_path, "rules.yaml", ERROR)
    done = subprocess.run([str(script), "lint", "--format", "json", "rules.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert done.returncode == 1, done.stderr
    assert [(d["file"], d["line"], d["column"], d["code"]) for d in json.loads(done.stdout)] == [
        ("rules.yaml", 4, 10, "E203")]
    assert done.stderr.strip() == "1 error, 0 warnings in 1 file"
