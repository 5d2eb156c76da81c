"""The README's numbers come from the shipped results (scripts/update_readme.py writes them)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("update_readme", ROOT / "scripts" / "update_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_findings_match_the_shipped_results(capsys):
    script = load_script()
    expected = script.shipped_findings()
    assert "test accuracy" in expected and "selectivity" in expected
    assert script.readme_block(script.README.read_text()) == expected, "run: python scripts/update_readme.py"
