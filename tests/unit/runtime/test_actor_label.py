"""An actor as the ``*_by`` columns keep it: ``role:subject``, cut to their width."""

from services.runtime.db.unit_of_work import LABEL_WIDTH, Actor


def test_a_label_is_role_and_subject() -> None:
    assert Actor(subject="u-1", role="center").label == "center:u-1"


def test_a_label_that_fits_is_kept_whole_and_a_longer_one_is_cut_at_the_width() -> None:
    fits = Actor(subject="s" * (LABEL_WIDTH - len("center:")), role="center")
    assert fits.label == f"center:{fits.subject}" and len(fits.label) == LABEL_WIDTH
    longer = Actor(subject=fits.subject + "x", role="center")
    assert longer.label == fits.label
