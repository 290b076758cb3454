"""POST /submissions: the same gate and the same single writer as the Kafka intake, answered synchronously
(issue 6, "HTTP intake"). The store is in memory; tests/e2e/test_intake.py runs the same through the service."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

import orjson
import pytest
from http_intake_world import MemoryStore, Service

from contracts.signing import key_id, public_key_bytes, sign_envelope
from services.evidence.adapters.http_intake import HttpIntakeLimits
from services.evidence.domain import MAX_BYTES
from tests.unit.evidence.evidence_world import (
    ADMIN,
    KAPUS,
    PERSON_KEYS,
    SIKDA,
    SIMPEG,
    STAFF1,
    STAFF2,
    build_world,
    person,
)

NDJSON = {"content-type": "application/x-ndjson"}


def signed(service: Service, value: str = "95") -> bytes:
    return orjson.dumps(sign_envelope(service.world.realisation(STAFF1, "iki-imunisasi", value=value), SIKDA))


def forged(service: Service) -> bytes:
    envelope = sign_envelope(service.world.realisation(STAFF1, "iki-imunisasi"), SIKDA)
    envelope["payload"]["value"] = "120"  # changed after signing
    return orjson.dumps(envelope)


def rejection_bytes(service: Service) -> list[bytes]:
    return [base64.b64decode(r.envelope.payload["original_b64"]) for r in service.store.rejections.values()]


async def test_a_valid_envelope_is_answered_202_accepted_with_its_sequence_and_stored_once() -> None:
    service = Service()
    raw = signed(service)
    async with service.client() as client:
        response = await client.post("/submissions", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 202
    body = response.json()
    [(sequence, stored_id, _)] = service.store.events
    assert body == {"event_id": orjson.loads(raw)["event_id"], "status": "accepted", "sequence": sequence}
    assert str(stored_id) == body["event_id"]
    assert service.stored_calls == 1


async def test_the_same_event_id_twice_is_answered_as_a_duplicate_of_the_first_sequence() -> None:
    service = Service()
    raw = signed(service)
    async with service.client() as client:
        first = (await client.post("/submissions", content=raw)).json()
        again = await client.post("/submissions", content=raw)
    assert again.status_code == 202
    assert again.json() == {**first, "status": "duplicate"}
    assert len(service.store.events) == 1
    assert service.store.rejections == {}


async def test_a_forged_submission_is_answered_422_with_reasons_and_recorded_with_its_bytes() -> None:
    service = Service()
    raw = forged(service)
    async with service.client() as client:
        response = await client.post("/submissions", content=raw)
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "rejected"
    assert body["event_id"] == orjson.loads(raw)["event_id"]
    assert [r["code"] for r in body["reasons"]] == ["signature.invalid"]
    assert body["reasons"][0]["message_id"] and body["reasons"][0]["message_en"]
    assert rejection_bytes(service) == [raw]
    (row,) = service.store.rejections.values()
    assert row.envelope.payload["received_from"] == "http:10.0.0.1"


async def test_non_json_bytes_are_answered_422_not_json_and_recorded() -> None:
    service = Service()
    async with service.client() as client:
        response = await client.post("/submissions", content=b"\x00garbage{")
    assert response.status_code == 422
    assert [r["code"] for r in response.json()["reasons"]] == ["not_json"]
    assert response.json()["event_id"] is None
    assert rejection_bytes(service) == [b"\x00garbage{"]


async def test_an_oversize_envelope_is_answered_413_and_recorded_with_its_first_bytes_only() -> None:
    service = Service()
    raw = b'{"pad": "' + b"x" * (MAX_BYTES * 2) + b'"}'
    async with service.client() as client:
        response = await client.post("/submissions", content=raw)
    assert response.status_code == 413
    assert [r["code"] for r in response.json()["reasons"]] == ["oversize"]
    assert rejection_bytes(service) == [raw[:MAX_BYTES]]


async def test_an_ndjson_body_is_answered_line_by_line_with_207_when_some_are_rejected() -> None:
    service = Service()
    good, bad = signed(service, "91"), forged(service)
    body = b"\n".join([good, b"", bad, good]) + b"\r\n"
    async with service.client() as client:
        response = await client.post("/submissions", content=body, headers=NDJSON)
    assert response.status_code == 207
    answer = response.json()
    assert (answer["accepted"], answer["duplicate"], answer["rejected"]) == (1, 1, 1)
    assert [r["line"] for r in answer["results"]] == [1, 2, 3]
    assert [r["answer"]["status"] for r in answer["results"]] == ["accepted", "rejected", "duplicate"]
    assert answer["results"][2]["answer"]["sequence"] == answer["results"][0]["answer"]["sequence"]


@pytest.mark.parametrize(("kinds", "status"), [(("good", "good"), 202), (("bad", "bad"), 422)])
async def test_an_ndjson_body_is_202_when_nothing_and_422_when_everything_is_rejected(
    kinds: tuple[str, ...], status: int
) -> None:
    service = Service()
    lines = [signed(service, str(90 + i)) if k == "good" else forged(service) for i, k in enumerate(kinds)]
    async with service.client() as client:
        response = await client.post("/submissions", content=b"\n".join(lines), headers=NDJSON)
    assert response.status_code == status
    assert len(response.json()["results"]) == len(lines)
    assert len(service.store.events) + len(service.store.rejections) == len(lines)


async def test_an_ndjson_body_over_its_limit_is_refused_413_and_nothing_is_recorded() -> None:
    service = Service(HttpIntakeLimits(max_body_bytes=2048))
    body = b"\n".join([signed(service, str(90 + i)) for i in range(5)])
    async with service.client() as client:
        response = await client.post("/submissions", content=body, headers=NDJSON)
    assert response.status_code == 413
    assert response.json()["status"] == "refused"
    assert [r["code"] for r in response.json()["reasons"]] == ["http.body_too_large"]
    assert (service.store.events, service.store.rejections) == ([], {})


async def test_too_many_lines_and_an_empty_ndjson_body_are_refused_without_a_record() -> None:
    service = Service(HttpIntakeLimits(max_lines=2))
    async with service.client() as client:
        many = await client.post("/submissions", content=b"\n".join([b"{}"] * 3), headers=NDJSON)
        empty = await client.post("/submissions", content=b"\n \n", headers=NDJSON)
    assert (many.status_code, empty.status_code) == (413, 400)
    assert [r["code"] for r in many.json()["reasons"]] == ["http.too_many_lines"]
    assert [r["code"] for r in empty.json()["reasons"]] == ["http.no_submissions"]
    assert service.store.rejections == {}


async def test_a_client_over_its_rate_is_refused_429_until_its_bucket_refills() -> None:
    service = Service(HttpIntakeLimits(rate_per_second=2.0, burst=2))
    raw = b"not json"
    async with service.client() as client, service.client("10.0.0.2") as other:
        statuses = [(await client.post("/submissions", content=raw)).status_code for _ in range(3)]
        refused = await client.post("/submissions", content=raw)
        elsewhere = await other.post("/submissions", content=raw)
        service.clock.now += 0.5
        later = await client.post("/submissions", content=raw)
    assert statuses == [422, 422, 429]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["reasons"][0]["code"] == "http.rate_limited"
    assert elsewhere.status_code == 422  # the limit is per client
    assert later.status_code == 422
    assert len(service.store.rejections) == 1  # the same bytes are one refusal, however often sent


async def test_a_request_before_the_intake_is_open_is_refused_503() -> None:
    service = Service(ready=False)
    async with service.client() as client:
        response = await client.post("/submissions", content=signed(service))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


async def test_concurrent_requests_are_decided_one_batch_at_a_time_gap_free_in_each_partition() -> None:
    service = Service()
    raws = [signed(service, str(80 + i)) for i in range(12)]
    async with service.client() as client:
        responses = await asyncio.gather(*(client.post("/submissions", content=r) for r in raws))
    assert {r.status_code for r in responses} == {202}
    answered = sorted(r.json()["sequence"] for r in responses)
    assert answered == sorted(sequence for sequence, _, _ in service.store.events) and len(set(answered)) == 12
    assert all([t.n for t in tail] == list(range(1, len(tail) + 1)) for tail in service.store.tails.values())
    assert service.store.max_concurrent == 1


async def test_a_revocation_counts_for_a_request_that_arrives_while_it_is_being_stored() -> None:
    service = Service()
    world = service.world
    revoke = sign_envelope(world.envelope("source.key.revoked", "sys:sikda", {
        "source_id": "sys:sikda", "key_id": key_id(public_key_bytes(SIKDA))}, source="admin"), ADMIN)
    async with service.client() as client:
        first, second = await asyncio.gather(client.post("/submissions", content=orjson.dumps(revoke)),
                                             client.post("/submissions", content=signed(service)))
    assert first.status_code == 202
    assert second.status_code == 422
    assert [r["code"] for r in second.json()["reasons"]] == ["key.revoked"]


async def test_a_late_objection_is_answered_422_objection_late_by_the_time_it_was_received() -> None:
    service = Service()
    world = service.world
    delivered = world.envelope("result.delivered", STAFF2, {"evaluation": "periodik"}, source="sys:simpeg")
    objection = world.envelope("objection.filed", STAFF2, {"reasons": "Bukti kinerja saya belum dihitung."},
                               source=person(STAFF2))
    async with service.client() as client:
        assert (await client.post("/submissions", content=orjson.dumps(sign_envelope(delivered, SIMPEG)))
                ).status_code == 202
        world.now += timedelta(days=15)  # §2.4: 14 calendar days after the result was received
        response = await client.post("/submissions", content=orjson.dumps(sign_envelope(world.sealed(objection),
                                                                                       PERSON_KEYS[STAFF2])))
    assert response.status_code == 422
    assert [r["code"] for r in response.json()["reasons"]] == ["objection.late"]


async def test_a_self_rating_as_atasan_is_answered_with_its_own_reason_code() -> None:
    service = Service()
    rating = sign_envelope(service.world.rating(KAPUS, KAPUS, "atasan"), PERSON_KEYS[KAPUS])
    async with service.client() as client:
        response = await client.post("/submissions", content=orjson.dumps(rating))
    assert [r["code"] for r in response.json()["reasons"]] == ["rater.self_as_atasan"]


async def test_requests_that_arrive_while_a_batch_is_stored_go_together_in_the_next_one() -> None:
    service = Service()
    calls: list[int] = []
    append = service.store.append_batch

    async def counting(accepted, rejected, positions):  # type: ignore[no-untyped-def]
        calls.append(len(accepted) + len(rejected))
        return await append(accepted, rejected, positions)

    service.store.append_batch = counting  # type: ignore[method-assign]
    raws = [signed(service, str(80 + i)) for i in range(12)]
    async with service.client() as client:
        responses = await asyncio.gather(*(client.post("/submissions", content=r) for r in raws))
    assert [r.json()["event_id"] for r in responses] == [orjson.loads(r)["event_id"] for r in raws]
    assert sum(calls) == 12
    assert len(calls) < 12


async def test_each_refusal_in_a_shared_batch_records_the_client_it_came_from() -> None:
    service = Service()
    async with service.client("10.0.0.1") as one, service.client("10.0.0.2") as two:
        await asyncio.gather(one.post("/submissions", content=b"one"), two.post("/submissions", content=b"two"),
                             one.post("/submissions", content=b"three"))
    origins = {base64.b64decode(r.envelope.payload["original_b64"]): r.envelope.payload["received_from"]
               for r in service.store.rejections.values()}
    assert origins == {b"one": "http:10.0.0.1", b"two": "http:10.0.0.2", b"three": "http:10.0.0.1"}


async def test_a_batch_that_fails_to_store_fails_its_requests_and_the_next_request_is_stored() -> None:
    service = Service()
    append = service.store.append_batch
    failures = [RuntimeError("database went away")]

    async def flaky(accepted, rejected, positions):  # type: ignore[no-untyped-def]
        if failures:
            raise failures.pop()
        return await append(accepted, rejected, positions)

    service.store.append_batch = flaky  # type: ignore[method-assign]
    raw = signed(service)
    async with service.client() as client:
        with pytest.raises(RuntimeError, match="database went away"):
            await client.post("/submissions", content=raw)
        response = await client.post("/submissions", content=raw)
    assert response.status_code == 202
    assert response.json()["status"] == "accepted"


async def test_an_instance_catching_up_with_another_reads_only_the_events_that_change_its_state() -> None:
    """Two instances on one store: the second folds what the first accepted (`Intake.catch_up`), reading the
    bytes of only the state's types, and ends with the first's state."""
    from services.evidence.app.intake import Intake
    from services.evidence.domain.state import STATE_TYPES

    class Counting(MemoryStore):
        read: list[bytes | None]

        async def events_after(self, after, limit=10_000, types=None):  # type: ignore[no-untyped-def]
            rows = await super().events_after(after, limit, types)
            self.read.extend(t.value for t in rows)
            return rows

    world = build_world()
    store = Counting()
    store.read = []
    first = Intake(store, world.state, clock=lambda: world.now, data_keys=world.key_directory())
    second = Intake(store, world.state, clock=lambda: world.now, data_keys=world.key_directory())
    registration = world.envelope("org.unit.registered", "unit-y", {"unit_id": "unit-y", "name": "Y",
                                  "kind": "uptd", "parent_unit_id": "pemkot"}, source="sys:simpeg")
    raws = [orjson.dumps(sign_envelope(world.realisation(STAFF1, "iki-imunisasi"), SIKDA)) for _ in range(5)]
    raws.append(orjson.dumps(sign_envelope(registration, SIMPEG)))
    outcome = await first.handle(raws, (), received_from="t")
    assert len(outcome.accepted) == 6
    caught_up = await second.current_state()
    assert caught_up == await first.current_state()
    assert "unit-y" in caught_up.units
    read = [v for v in store.read if v is not None]
    assert [orjson.loads(v)["type"] for v in read] == ["org.unit.registered"]
    assert len(store.read) == 6 and {orjson.loads(v)["type"] for v in read} <= STATE_TYPES
