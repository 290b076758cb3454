"""Single signatures checked ahead of the gate, in threads (services/evidence/app/verify_ahead.py): the same
decisions as the gate verifying each itself, whatever the keys do within the batch."""

from __future__ import annotations

import asyncio
import gc

import orjson
import pytest
from evidence_world import ADMIN, SIKDA, SIMPEG, STAFF1, World, build_world, codes, key

from contracts.signing import b64, key_id, public_key_bytes, sign_batch, sign_envelope
from services.evidence.app.intake import Intake
from services.evidence.app.verify_ahead import Started, VerifyAhead
from services.evidence.domain import Accepted, Code, Rejected, decide_screened, screen
from services.evidence.domain.authenticate import single_checks, verify_checks
from tests.unit.evidence_http.http_intake_world import MemoryStore

NEW_SIKDA = key(50)


def _signed(world: World, envelope: dict[str, object], signer: object) -> bytes:
    return orjson.dumps(sign_envelope(world.sealed(envelope), signer))  # type: ignore[arg-type]


def _mixed_batch(world: World) -> list[bytes]:
    """Every path `authenticate` takes for a single signature, and keys that change within the batch: sikda's
    key is rotated part way (the old key is retired from then on, the new one is not in the starting state),
    and simpeg's key is revoked."""
    real = world.realisation
    rotate = {"source_id": "sys:sikda", "public_key": b64(public_key_bytes(NEW_SIKDA))}
    revoke = {"source_id": "sys:simpeg", "key_id": key_id(public_key_bytes(SIMPEG)), "reason": "dicuri"}
    tampered = sign_envelope(world.sealed(real(STAFF1, "iki-imunisasi")), SIKDA)
    tampered["payload"]["value"] = "120"
    unsigned = world.sealed(real(STAFF1, "iki-imunisasi"))
    members = [orjson.dumps(m) for m in sign_batch([world.sealed(real(STAFF1, "iki-imunisasi")) for _ in range(3)],
                                                  SIKDA)]
    return [
        _signed(world, real(STAFF1, "iki-imunisasi"), SIKDA),  # accepted
        _signed(world, real(STAFF1, "iki-imunisasi"), SIMPEG),  # another source's key: invalid
        orjson.dumps(tampered),  # changed after signing: invalid
        orjson.dumps(unsigned),  # missing
        _signed(world, real(STAFF1, "iki-imunisasi", source="sys:unknown"), key(99)),  # unknown source
        *members,  # a signed batch: not checked ahead
        _signed(world, world.envelope("source.key.rotated", "sys:sikda", rotate, source="admin"), ADMIN),
        _signed(world, real(STAFF1, "iki-imunisasi"), SIKDA),  # the old key, now retired
        _signed(world, real(STAFF1, "iki-imunisasi"), NEW_SIKDA),  # the new key, registered in this batch
        _signed(world, world.envelope("source.key.revoked", "sys:simpeg", revoke, source="admin"), ADMIN),
        _signed(world, world.envelope("org.unit.registered", "unit-x", {"unit_id": "unit-x", "name": "X",
                                      "kind": "uptd", "parent_unit_id": "pemkot"}, source="sys:simpeg"), SIMPEG),
        _signed(world, real(STAFF1, "iki-imunisasi"), key(98)),  # an unregistered key of a known source
    ]


def _outline(decisions: object) -> list[tuple[str, tuple[str, ...]]]:
    return [(type(d).__name__, codes(d) if isinstance(d, Rejected) else ()) for d in decisions]  # type: ignore[attr-defined]


@pytest.fixture
def world() -> World:
    return build_world()


def test_verdicts_made_ahead_give_the_gates_own_decisions_in_a_batch_whose_keys_change(world: World) -> None:
    screened = screen(_mixed_batch(world))
    checks = single_checks(screened.parsed, world.state)
    verdicts = verify_checks(list(checks.items()))

    alone, _ = decide_screened(screened, world.state, world.known, received_at=world.now, received_from="t")
    ahead, _ = decide_screened(screened, world.state, world.known, received_at=world.now, received_from="t",
                               verified=verdicts)

    assert _outline(ahead) == _outline(alone)
    assert ahead == alone
    accepted, invalid = ("Accepted", ()), ("Rejected", (Code.SIGNATURE_INVALID,))
    assert _outline(alone) == [
        accepted, invalid, invalid, ("Rejected", (Code.SIGNATURE_MISSING,)), ("Rejected", (Code.KEY_UNKNOWN,)),
        accepted, accepted, accepted,  # the signed batch
        accepted, ("Rejected", (Code.KEY_RETIRED,)), accepted,  # the rotation, the old key, the new key
        accepted, ("Rejected", (Code.KEY_REVOKED,)), invalid,
    ]
    assert sum(verdicts.values()) >= 3  # the checks did verify real signatures, not only refuse


def test_checks_ahead_cover_singly_signed_submissions_against_their_sources_starting_keys(world: World) -> None:
    screened = screen(_mixed_batch(world))
    checks = single_checks(screened.parsed, world.state)
    signers = {raw for raw, _signature, _message in checks}
    assert public_key_bytes(SIKDA) in signers
    assert public_key_bytes(NEW_SIKDA) not in signers  # registered only within the batch
    signed_alone = [p for p in screened.parsed if getattr(p, "batch", None) is None and p.envelope.signature]  # type: ignore[union-attr]
    assert {m for _k, _s, m in checks} <= {p.message for p in signed_alone}  # type: ignore[union-attr]
    assert not any(s.startswith("batch:") for _k, s, _m in checks)


def test_the_gate_takes_a_verdict_made_ahead_instead_of_verifying_again(world: World) -> None:
    raw = _signed(world, world.realisation(STAFF1, "iki-imunisasi"), SIKDA)
    screened = screen([raw])
    (check,) = single_checks(screened.parsed, world.state)
    (decision,), _ = decide_screened(screened, world.state, world.known, received_at=world.now, received_from="t",
                                     verified={check: False})
    assert codes(decision) == (Code.SIGNATURE_INVALID,)


@pytest.mark.parametrize("threads", [0, 1, 2, 3])
async def test_the_intake_decides_and_stores_the_same_with_any_number_of_threads(threads: int) -> None:
    outcomes = []
    for verify in (None, VerifyAhead(threads)):
        world = build_world()
        store = MemoryStore()
        intake = Intake(store, world.state, clock=lambda w=world: w.now, data_keys=world.key_directory(),
                        verify=verify)
        outcome = await intake.handle(_mixed_batch(world), (), received_from="t")
        outcomes.append(([e.event_id for e in outcome.accepted], sorted(r.codes for r in store.rejections.values()),
                         [e[2] for e in store.events]))
        if verify is not None:
            assert verify.checked == (0 if threads == 0 else 9)  # the singly signed with a key known at the start
            verify.close()
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0][0]) == 7


async def test_a_batch_that_fails_before_the_gate_leaves_no_verification_unawaited() -> None:
    world = build_world()

    class Failing(MemoryStore):
        async def accepted_among(self, event_ids):  # type: ignore[no-untyped-def]
            raise ConnectionError("the database went away")

    started: list[Started] = []

    class Recording(VerifyAhead):
        def start(self, parsed, state):  # type: ignore[no-untyped-def]
            begun = super().start(parsed, state)
            assert begun is not None
            started.append(begun)
            return begun

    reported: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, context: reported.append(context))
    verify = Recording(2)
    intake = Intake(Failing(), world.state, clock=lambda: world.now, data_keys=world.key_directory(), verify=verify)
    raws = [_signed(world, world.realisation(STAFF1, "iki-imunisasi"), SIKDA) for _ in range(12)]
    with pytest.raises(ConnectionError):
        await intake.handle(raws, (), received_from="t")
    (begun,) = started
    verify.close()
    await asyncio.sleep(0.01)
    assert begun.others.done()
    started.clear()
    del begun
    gc.collect()
    assert reported == []  # the threads' answers were dropped, not left as an error nobody retrieved


def test_a_negative_number_of_threads_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="threads must be 0 or more"):
        VerifyAhead(-1)


def test_every_accepted_event_is_accepted_once_whichever_way_it_was_checked(world: World) -> None:
    raws = [_signed(world, world.realisation(STAFF1, "iki-imunisasi"), SIKDA) for _ in range(20)]
    screened = screen(raws + raws[:5])  # duplicates within the batch
    verdicts = verify_checks(list(single_checks(screened.parsed, world.state).items()))
    decisions, _ = decide_screened(screened, world.state, world.known, received_at=world.now, received_from="t",
                                   verified=verdicts)
    assert [type(d).__name__ for d in decisions] == ["Accepted"] * 20 + ["Duplicate"] * 5
    assert all(isinstance(d, Accepted) for d in decisions[:20])
