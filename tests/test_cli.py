"""The command line: demo --list, and the tour's legs all exist."""

from bayescalc import cli


def test_every_tour_leg_is_a_demo():
    assert set(cli.TOUR_LEGS) <= set(cli.list_demos())


def test_demo_list_prints_names(capsys):
    assert cli.main(["demo", "--list"]) == 0
    out = capsys.readouterr().out.split()
    assert out == cli.list_demos()


def test_unknown_demo_is_a_clear_error():
    import pytest

    with pytest.raises(SystemExit, match="no demo named 'nope'"):
        cli.main(["demo", "nope"])
