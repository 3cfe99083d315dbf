"""Display widths count CJK characters twice, so printed tables line up in every language."""

from __future__ import annotations

import pytest

from nfcourse.text import display_width, print_rows, right_align


def test_cjk_characters_take_two_columns() -> None:
    assert display_width("NLL") == 3 and display_width("パラメータ数") == 12 and display_width("Dichte (ms)") == 11
    assert (
        right_align("密度", 6) == "  密度" and right_align(42, 4) == "  42" and right_align("toolong", 3) == "toolong"
    )


def test_rows_line_up_by_display_width(capsys: pytest.CaptureFixture[str]) -> None:
    print_rows([("テスト NLL", 1.5), ("oracle", 2.0)])
    lines = capsys.readouterr().out.splitlines()
    assert [display_width(line.split("  ")[0]) for line in lines] == [10, 6]
    assert display_width(lines[0]) - len(lines[0].split()[-1]) == display_width(lines[1]) - len(lines[1].split()[-1])


def test_print_table_makes_every_column_as_wide_as_its_widest_entry(capsys) -> None:
    from nfcourse.text import display_width, print_table

    print_table(["D", "MAF のサンプリング"], [[2, "0.28"], [64, "23.74"]])
    lines = capsys.readouterr().out.splitlines()
    assert len({display_width(line) for line in lines}) == 1  # every line ends in the same column
    assert lines[0].endswith("MAF のサンプリング") and lines[2].endswith("23.74") and " 64" in lines[2]
