"""§1.5: the nine matrix cells, label normalisation, and the wrong mappings seen in public code."""

from __future__ import annotations

import pytest

from contracts.events import Rating
from services.scoring.domain.predikat import UnknownRatingLabel, normalise_rating, predikat

ATAS, SESUAI, BAWAH = Rating.DI_ATAS, Rating.SESUAI, Rating.DI_BAWAH

NINE_CELLS = [
    (ATAS, BAWAH, "Kurang/Misconduct"),
    (ATAS, SESUAI, "Baik"),
    (ATAS, ATAS, "Sangat Baik"),
    (SESUAI, BAWAH, "Kurang/Misconduct"),
    (SESUAI, SESUAI, "Baik"),
    (SESUAI, ATAS, "Baik"),
    (BAWAH, BAWAH, "Sangat Kurang"),
    (BAWAH, SESUAI, "Butuh Perbaikan"),
    (BAWAH, ATAS, "Butuh Perbaikan"),
]


@pytest.mark.parametrize(("hasil", "perilaku", "expected"), NINE_CELLS)
def test_every_cell_of_the_matrix_gives_its_predikat(hasil: Rating, perilaku: Rating, expected: str) -> None:
    assert predikat(hasil, perilaku) == expected


@pytest.mark.parametrize(
    ("hasil", "perilaku", "wrong"),
    [
        (ATAS, BAWAH, "Sangat Kurang"),
        (ATAS, BAWAH, "Baik"),
        (BAWAH, SESUAI, "Kurang"),
        (ATAS, SESUAI, "Sangat Baik"),
        (BAWAH, BAWAH, "Butuh Perbaikan"),
        (BAWAH, BAWAH, "Kurang"),
    ],
)
def test_the_wrong_mappings_seen_in_public_code_are_not_made(
    hasil: Rating, perilaku: Rating, wrong: str
) -> None:
    assert predikat(hasil, perilaku) != wrong


def test_good_results_never_compensate_for_bad_behaviour() -> None:
    assert {predikat(h, BAWAH) for h in (ATAS, SESUAI)} == {"Kurang/Misconduct"}


@pytest.mark.parametrize(
    ("label", "level"),
    [
        ("Diatas", ATAS),
        ("DI ATAS EKSPEKTASI", ATAS),
        ("di atas ekspektasi", ATAS),
        ("Di Atas Ekspektasi", ATAS),
        ("  Sesuai   Ekspektasi ", SESUAI),
        ("SESUAI", SESUAI),
        ("Dibawah", BAWAH),
        ("DI BAWAH", BAWAH),
    ],
)
def test_rating_labels_are_normalised_for_case_and_spaces(label: str, level: Rating) -> None:
    assert normalise_rating(label) is level


def test_predikat_accepts_labels_as_they_arrive() -> None:
    assert predikat("DI ATAS EKSPEKTASI", "Diatas") == "Sangat Baik"


@pytest.mark.parametrize("label", ["", "Baik", "Diatasan", "Ekspektasi"])
def test_a_label_that_names_no_level_is_refused(label: str) -> None:
    with pytest.raises(UnknownRatingLabel):
        normalise_rating(label)
