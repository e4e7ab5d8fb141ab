"""``make bench`` writes its table into the README between markers, and nowhere else."""

from __future__ import annotations

from bench.harness import Results
from bench.readme import END, START, update


def _results() -> Results:
    results = Results()
    results.add("outbound sync (postgres)", "96.0 calls/s = 0.960x the limit", ">= 0.95x", True)
    results.add("callback processing (sqlite)", "2 workers / ingest = 0.55", ">= 1.0", False)
    return results


def test_the_table_between_the_markers_is_replaced_and_the_rest_kept(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nBefore.\n\n{START}\n| old | table |\n{END}\n\nAfter.\n")
    assert update(
        readme, _results(), started="2026-11-29 03:00 UTC", finished="03:20 UTC", load="0.3 1 2"
    )
    text = readme.read_text()
    assert text.startswith("# Title\n\nBefore.\n\n")
    assert text.endswith(f"{END}\n\nAfter.\n")
    assert "| old | table |" not in text
    assert "| outbound sync (postgres) | 96.0 calls/s = 0.960x the limit | >= 0.95x | yes |" in text
    assert "| callback processing (sqlite) | 2 workers / ingest = 0.55 | >= 1.0 | **no** |" in text
    assert "Date: 2026-11-29 03:00 UTC (finished 03:20 UTC)." in text
    assert "(2 cores, load average 0.3 1 2 at the start)" in text


def test_a_readme_without_the_markers_is_left_alone(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nNo table here.\n")
    assert not update(readme, _results(), started="x", finished="y")
    assert readme.read_text() == "# Title\n\nNo table here.\n"


def test_the_project_readme_has_the_markers_once():
    from bench.run import README

    text = README.read_text()
    assert text.count(START) == 1 and text.count(END) == 1
    assert text.index(START) < text.index(END)
