"""The predikat kinerja matrix and rating-label normalisation (REGULATION.md §1.5).

Rows are the rating hasil kerja, columns the rating perilaku. Good results never compensate for bad behaviour:
any Di Bawah behaviour with Sesuai or Di Atas results is `Kurang/Misconduct`.
"""

from __future__ import annotations

from contracts.events import Rating

SANGAT_BAIK = "Sangat Baik"
BAIK = "Baik"
BUTUH_PERBAIKAN = "Butuh Perbaikan"
KURANG_MISCONDUCT = "Kurang/Misconduct"
SANGAT_KURANG = "Sangat Kurang"

#: The five predicates, best first (the order `worst-period` in §1.8 uses).
PREDIKAT_ORDER: tuple[str, ...] = (SANGAT_BAIK, BAIK, BUTUH_PERBAIKAN, KURANG_MISCONDUCT, SANGAT_KURANG)

#: §1.5, all nine cells: (hasil kerja, perilaku) → predikat.
MATRIX: dict[tuple[Rating, Rating], str] = {
    (Rating.DI_ATAS, Rating.DI_BAWAH): KURANG_MISCONDUCT,
    (Rating.DI_ATAS, Rating.SESUAI): BAIK,
    (Rating.DI_ATAS, Rating.DI_ATAS): SANGAT_BAIK,
    (Rating.SESUAI, Rating.DI_BAWAH): KURANG_MISCONDUCT,
    (Rating.SESUAI, Rating.SESUAI): BAIK,
    (Rating.SESUAI, Rating.DI_ATAS): BAIK,
    (Rating.DI_BAWAH, Rating.DI_BAWAH): SANGAT_KURANG,
    (Rating.DI_BAWAH, Rating.SESUAI): BUTUH_PERBAIKAN,
    (Rating.DI_BAWAH, Rating.DI_ATAS): BUTUH_PERBAIKAN,
}


class UnknownRatingLabel(ValueError):
    """A rating label that none of the three §1.3 levels matches, even after normalisation."""


def normalise_rating(label: str | Rating) -> Rating:
    """The §1.3 level a label means, ignoring case, spaces and the word "Ekspektasi" (§1.5: "Diatas",
    "DI ATAS EKSPEKTASI", "Dibawah" are all accepted). The contract's `Rating` applies the same rule when an
    event is parsed, so stored events always carry the canonical label."""
    if isinstance(label, Rating):
        return label
    try:
        return Rating(label)
    except ValueError:
        raise UnknownRatingLabel(f"not a rating level: {label!r}") from None


def predikat(hasil_kerja: str | Rating, perilaku: str | Rating) -> str:
    """The predikat kinerja of a rating hasil kerja and a rating perilaku (§1.5), labels normalised first."""
    return MATRIX[(normalise_rating(hasil_kerja), normalise_rating(perilaku))]


def level_rank(rating: Rating) -> int:
    """1 Di Bawah, 2 Sesuai, 3 Di Atas: the scale of behaviour ratings (§1.4)."""
    return {Rating.DI_BAWAH: 1, Rating.SESUAI: 2, Rating.DI_ATAS: 3}[rating]


def rank_level(rank: int) -> Rating:
    """The level of a rank 1-3 (inverse of `level_rank`)."""
    return {1: Rating.DI_BAWAH, 2: Rating.SESUAI, 3: Rating.DI_ATAS}[rank]
