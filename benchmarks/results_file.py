"""Where the benchmarks write: ``benchmarks/RESULTS.md``, one table appended per run."""

from pathlib import Path

RESULTS = Path(__file__).parent / "RESULTS.md"


def append(lines: list[str], out: Path = RESULTS) -> None:
    """Print the markdown ``lines`` and append them to ``out``."""
    text = "\n".join(lines)
    print(text)
    with open(out, "a") as f:
        f.write(text + "\n")
