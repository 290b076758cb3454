"""Authenticity: signatures, source keys, their rotation and revocation, administrator events."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from evidence_world import (
    ADMIN,
    KAPUS,
    PERSON_KEYS,
    SIKDA,
    SIMPEG,
    STAFF1,
    World,
    build_world,
    codes,
    key,
    person,
)

from contracts.signing import b64, key_id, public_key_bytes, sign_envelope
from services.evidence.domain import Accepted, Code


@pytest.fixture
def world() -> World:
    return build_world()


def _rotate(world: World, source_id: str, new_key_seed: int) -> None:
    payload = {"source_id": source_id, "public_key": b64(public_key_bytes(key(new_key_seed)))}
    world.must_accept(world.envelope("source.key.rotated", source_id, payload, source="admin"), ADMIN)


def _revoke(world: World, source_id: str, signer_seed: int) -> None:
    payload = {
        "source_id": source_id,
        "key_id": key_id(public_key_bytes(key(signer_seed))),
        "reason": "dicuri",
    }
    world.must_accept(world.envelope("source.key.revoked", source_id, payload, source="admin"), ADMIN)


def test_a_submission_without_a_signature_is_rejected_as_signature_missing(world: World) -> None:
    raw = orjson.dumps(world.realisation(STAFF1, "iki-imunisasi"))
    assert codes(world.decide_raw(raw)) == (Code.SIGNATURE_MISSING,)


def test_a_signature_by_another_key_is_rejected_as_signature_invalid(world: World) -> None:
    assert codes(world.submit(world.realisation(STAFF1, "iki-imunisasi"), SIMPEG)) == (
        Code.SIGNATURE_INVALID,
    )


def test_a_payload_changed_after_signing_is_rejected_as_signature_invalid(world: World) -> None:
    signed = sign_envelope(world.realisation(STAFF1, "iki-imunisasi"), SIKDA)
    signed["payload"]["value"] = "120"
    assert codes(world.decide_raw(orjson.dumps(signed))) == (Code.SIGNATURE_INVALID,)


@pytest.mark.parametrize("garbage", ["not base64!", "AAAA", "batch:1:0:AAAA:", "batch:2:5:x:y", "batch::::"])
def test_a_malformed_signature_is_rejected_as_signature_invalid(world: World, garbage: str) -> None:
    envelope = world.realisation(STAFF1, "iki-imunisasi")
    envelope["signature"] = garbage
    assert codes(world.decide_raw(orjson.dumps(envelope))) == (Code.SIGNATURE_INVALID,)


def test_a_submission_from_an_unregistered_source_is_rejected_as_key_unknown(world: World) -> None:
    envelope = world.realisation(STAFF1, "iki-imunisasi", source="sys:unknown")
    assert codes(world.submit(envelope, key(99))) == (Code.KEY_UNKNOWN,)


def test_a_submission_signed_with_a_revoked_key_is_rejected_as_key_revoked(world: World) -> None:
    assert isinstance(world.submit(world.realisation(STAFF1, "iki-imunisasi"), SIKDA), Accepted)
    _revoke(world, "sys:sikda", 3)
    world.now += timedelta(minutes=1)
    assert codes(world.submit(world.realisation(STAFF1, "iki-imunisasi"), SIKDA)) == (Code.KEY_REVOKED,)


def test_after_a_rotation_the_new_key_is_accepted_and_the_old_one_is_rejected_as_key_retired(
    world: World,
) -> None:
    _rotate(world, "sys:sikda", 33)
    world.now += timedelta(minutes=1)
    assert codes(world.submit(world.realisation(STAFF1, "iki-imunisasi"), SIKDA)) == (Code.KEY_RETIRED,)
    assert isinstance(world.submit(world.realisation(STAFF1, "iki-imunisasi"), key(33)), Accepted)


def test_source_registration_signed_by_a_non_administrator_is_rejected(world: World) -> None:
    payload = {
        "source_id": "sys:evil",
        "kind": "system",
        "public_key": b64(public_key_bytes(key(66))),
        "units": ["pemkot"],
    }
    envelope = world.envelope("source.registered", "sys:evil", payload, source="sys:simpeg")
    assert codes(world.submit(envelope, SIMPEG)) == (Code.SIGNATURE_INVALID,)


def test_a_registered_admin_source_may_register_others_until_its_key_is_revoked(world: World) -> None:
    world.register("admin:bkpsdm", "admin", key(50))
    payload = {
        "source_id": "sys:new",
        "kind": "system",
        "public_key": b64(public_key_bytes(key(51))),
        "units": ["disdik"],
    }
    assert isinstance(
        world.submit(world.envelope("source.registered", "sys:new", payload, source="x"), key(50)), Accepted
    )
    _revoke(world, "admin:bkpsdm", 50)
    world.now += timedelta(minutes=1)
    again = world.envelope("source.registered", "sys:new", payload, source="x")
    assert codes(world.submit(again, key(50))) == (Code.KEY_REVOKED,)


def test_without_any_configured_administrator_key_nothing_can_be_registered() -> None:
    from services.evidence.domain import initial_state

    world = World(initial_state([]))
    payload = {"source_id": "sys:a", "kind": "system", "public_key": b64(public_key_bytes(key(2)))}
    envelope = world.envelope("source.registered", "sys:a", payload, source="admin")
    assert codes(world.submit(envelope, ADMIN)) == (Code.KEY_UNKNOWN,)


def test_a_person_may_not_sign_a_rating_as_part_of_a_batch(world: World) -> None:
    ratings = [world.rating(KAPUS, STAFF1, "atasan")]
    assert codes(world.submit_batch(ratings, PERSON_KEYS[KAPUS])[0]) == (Code.BATCH_NOT_ALLOWED,)


def test_the_same_envelope_signed_again_verifies_with_the_same_bytes_in_any_member_order(
    world: World,
) -> None:
    envelope = world.realisation(STAFF1, "iki-imunisasi")
    reordered = dict(reversed(list(sign_envelope(envelope, SIKDA).items())))
    assert isinstance(world.decide_raw(orjson.dumps(reordered)), Accepted)


def test_a_person_source_key_identifies_the_person(world: World) -> None:
    assert world.state.sources[person(STAFF1)].nip == STAFF1
