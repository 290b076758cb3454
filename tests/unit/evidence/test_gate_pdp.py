"""The gate and personal data (UU PDP; ADR 0010, contracts/pdp.py, services/evidence/domain/sealing.py)."""

from __future__ import annotations

import base64

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from evidence_world import ADMIN, KAPUS, PERSON_KEYS, STAFF1, STAFF2, World, build_world, codes, person

from contracts import pdp
from contracts.signing import sign_envelope
from services.evidence.app.intake import rejection_row
from services.evidence.domain import Accepted, Rejected, decide

FEEDBACK = "Bu Sari teliti sekali mencatat imunisasi — terima kasih"


@pytest.fixture
def world() -> World:
    return build_world()


def rating(world: World, feedback: str | None) -> dict[str, object]:
    envelope = world.rating(KAPUS, STAFF1, "atasan")
    envelope["payload"]["feedback"] = feedback  # type: ignore[index]
    return envelope


def test_a_sealed_comment_is_accepted_and_its_plaintext_is_nowhere_in_the_stored_bytes(world: World) -> None:
    decision = world.submit(rating(world, FEEDBACK), PERSON_KEYS[KAPUS])
    assert isinstance(decision, Accepted), decision
    assert FEEDBACK.encode() not in decision.original
    sealed = decision.envelope.payload["feedback"]
    assert pdp.open_sealed(sealed, world.data_key(STAFF1)) == FEEDBACK


def test_a_plaintext_comment_is_refused_and_the_refusal_keeps_only_its_digest(world: World) -> None:
    world.data_key(STAFF1)
    raw = orjson.dumps(sign_envelope(rating(world, FEEDBACK), PERSON_KEYS[KAPUS]))
    decision = decide(raw, world.state, received_at=world.now, received_from="test", sealed_to=world.sealed_to)
    assert isinstance(decision, Rejected)
    assert codes(decision) == ("pdp.not_sealed",)
    assert decision.reasons[0].path == "payload.feedback"
    row = rejection_row(decision, world.now, "test")
    kept = base64.b64decode(row.envelope.payload["original_b64"])
    assert FEEDBACK.encode() not in kept and b"redacted:sha256:" in kept
    assert FEEDBACK not in orjson.dumps(row.envelope.payload).decode()


def test_a_comment_sealed_to_another_persons_key_or_a_stranger_key_is_refused(world: World) -> None:
    envelope = rating(world, pdp.seal(FEEDBACK, pdp.raw_public(world.data_key(STAFF2))))
    assert codes(world.submit(envelope, PERSON_KEYS[KAPUS])) == ("pdp.unknown_key",)
    stranger = X25519PrivateKey.generate()
    envelope = rating(world, pdp.seal(FEEDBACK, pdp.raw_public(stranger)))
    assert codes(world.submit(envelope, PERSON_KEYS[KAPUS])) == ("pdp.unknown_key",)


def test_no_comment_needs_no_key(world: World) -> None:
    decision = world.submit(rating(world, None), PERSON_KEYS[KAPUS])
    assert isinstance(decision, Accepted), decision


def test_erasure_is_an_administrator_act_about_the_named_person(world: World) -> None:
    payload = {"nip": STAFF1, "reason": "masa retensi berakhir", "retention": "ended",
               "retention_policy_hash": "0" * 64}
    erased = world.envelope("personal_data.erased", STAFF1, payload, source="admin:bkpsdm")
    assert isinstance(world.submit(erased, ADMIN), Accepted)
    by_person = world.envelope("personal_data.erased", STAFF1, payload, source=person(STAFF1))
    assert isinstance(world.submit(by_person, PERSON_KEYS[STAFF1]), Rejected)
    other = world.envelope("personal_data.erased", STAFF2, payload, source="admin:bkpsdm")
    assert codes(world.submit(other, ADMIN)) == ("subject.mismatch",)
