"""Throughput of the evidence gate's pure `decide` on one core, against raw Ed25519 verification (issue 6).

Run: `.venv/bin/python bench/bench_evidence_gate.py [N]`. Reports timings (it asserts only that each timed
decision is an acceptance: tests/unit/bench_suite/test_gate_bench.py runs it). Every submission is a
valid `realisation.recorded` that the gate accepts, so each one goes through every check.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from contracts import pdp
from contracts.signing import b64, public_key_bytes, sign_batch, sign_envelope, signing_bytes
from services.evidence.domain import Accepted, IntakeState, decide, decide_batch, evolve, initial_state

T0 = datetime(2025, 1, 2, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
NIP = "198503032010011003"
ADMIN, SYSTEM = (Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32) for n in (1, 2))
#: the employee's data key (UU PDP, ADR 0010): the assignment's name is sealed to it, as a producer must
DATA_KEY = pdp.raw_public(X25519PrivateKey.from_private_bytes(bytes([3]) * 32))
SEALED_TO = {NIP: frozenset({pdp.kid_of(DATA_KEY)})}


def _envelope(n: int, type_: str, subject: str, payload: dict[str, Any], source: str) -> dict[str, Any]:
    return {
        "event_id": str(UUID(int=n)),
        "type": type_,
        "occurred_at": NOW.isoformat(),
        "source": source,
        "subject": subject,
        "period": "2025",
        "payload": payload,
    }


def _state() -> IntakeState:
    state = initial_state([public_key_bytes(ADMIN)])
    setup = [
        (
            _envelope(
                1,
                "source.registered",
                "sys:sikda",
                {
                    "source_id": "sys:sikda",
                    "kind": "system",
                    "public_key": b64(public_key_bytes(SYSTEM)),
                    "units": ["dinkes"],
                    "indicators": ["iki-imunisasi"],
                },
                "admin",
            ),
            ADMIN,
        ),
        (
            _envelope(
                2,
                "org.unit.registered",
                "dinkes",
                {"unit_id": "dinkes", "name": "Dinkes", "kind": "dinas"},
                "sys:sikda",
            ),
            SYSTEM,
        ),
        (
            _envelope(
                3,
                "employee.assigned",
                NIP,
                {
                    "nip": NIP,
                    "name": "S",
                    "unit_id": "dinkes",
                    "position_id": "p",
                    "jabatan": "J",
                    "effective_from": T0.isoformat(),
                },
                "sys:sikda",
            ),
            SYSTEM,
        ),
        (
            _envelope(
                4,
                "skp.planned",
                NIP,
                {
                    "pejabat_penilai_nip": "197001011990031001",
                    "rhk": [
                        {
                            "rhk_id": "r",
                            "title": "R",
                            "iki": [
                                {
                                    "iki_id": "iki-imunisasi",
                                    "name": "I",
                                    "unit": "%",
                                    "target": {"low": "90", "high": "90"},
                                }
                            ],
                        }
                    ],
                },
                "sys:sikda",
            ),
            SYSTEM,
        ),
    ]
    for envelope, key in setup:
        decision = decide(
            orjson.dumps(sign_envelope(pdp.seal_payload(envelope, DATA_KEY), key)), state,
            received_at=NOW, received_from="b", sealed_to=SEALED_TO,
        )
        assert isinstance(decision, Accepted), decision
        state = evolve(state, decision.envelope)
    return state


def _realisations(n: int) -> list[dict[str, Any]]:
    evidence = {"source_system": "SIKDA", "document": "rekap", "content_hash": "sha256:" + "ab" * 32}
    return [
        _envelope(
            1000 + i,
            "realisation.recorded",
            NIP,
            {"iki_id": "iki-imunisasi", "value": str(i), "evidence": evidence},
            "sys:sikda",
        )
        for i in range(n)
    ]


def _rate(label: str, count: int, run: Callable[[], object], repeat: int = 3) -> None:
    """Best of `repeat` runs: the machine is shared, and the minimum is the least disturbed measurement."""
    elapsed = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        elapsed = min(elapsed, time.perf_counter() - start)
    print(f"{label:<52} {count / elapsed:>10,.0f} /s   ({elapsed * 1e6 / count:7.1f} µs each)")


def main(n: int) -> None:
    state = _state()
    envelopes = _realisations(n)
    single = [orjson.dumps(sign_envelope(e, SYSTEM)) for e in envelopes]
    public = SYSTEM.public_key()
    messages = [signing_bytes(orjson.loads(raw)) for raw in single]
    signatures = [SYSTEM.sign(m) for m in messages]

    def verify_all() -> None:
        for message, signature in zip(messages, signatures, strict=True):
            public.verify(signature, message)

    def decide_each(raws: list[bytes]) -> Callable[[], None]:
        def run() -> None:
            for raw in raws:
                assert isinstance(decide(raw, state, received_at=NOW, received_from="b"), Accepted)

        return run

    print(f"N = {n}, one core, Python {sys.version.split()[0]}")
    _rate("raw Ed25519 verify (cryptography)", n, verify_all)
    _rate("decide, single-signed", n, decide_each(single))
    for size in (100, 1000):
        batched = [
            orjson.dumps(e)
            for start in range(0, n, size)
            for e in sign_batch(envelopes[start : start + size], SYSTEM)
        ]
        _rate(f"decide, batch-signed ({size}/batch), one decide each", n, decide_each(batched))

        def run_batches(raws: list[bytes] = batched, size: int = size) -> None:
            for start in range(0, n, size):
                decisions = decide_batch(
                    raws[start : start + size], state, received_at=NOW, received_from="b"
                )
                assert all(isinstance(d, Accepted) for d in decisions)

        _rate(f"decide_batch, batch-signed ({size}/batch)", n, run_batches)
    unsigned = [orjson.dumps(e) for e in envelopes]
    _rate(
        "decide, unsigned (all checks before the signature)",
        n,
        lambda: [decide(raw, state, received_at=NOW, received_from="b") for raw in unsigned],
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
