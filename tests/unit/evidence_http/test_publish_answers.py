"""How `objektif publish` matches the evidence service's output events to the lines it sent
(objektif/publish_answers.py)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import orjson

from objektif.publish_answers import Answers, Outcome, read_lines, summarise

MAX = 64


def envelope(n: int, **extra: Any) -> dict[str, Any]:
    return {"event_id": str(uuid.UUID(int=n)), "type": "realisation.recorded", "subject": "198503032010011003",
            "payload": {"value": str(n)}, "signature": f"sig{n}", **extra}


def accepted_event(env: dict[str, Any], sequence: int) -> bytes:
    return orjson.dumps({**env, "sequence": sequence, "recorded_at": "2026-01-01T00:00:00+00:00"})


def rejection_event(original: bytes, *codes: str, event_id: str | None = None) -> bytes:
    return orjson.dumps({"event_id": str(uuid.uuid4()), "type": "submission.rejected", "payload": {
        "submission_event_id": event_id, "original_b64": base64.b64encode(original).decode(),
        "reasons": [{"code": c, "message_id": c, "message_en": c} for c in codes]}})


def file_of(*lines: bytes) -> bytes:
    return b"\n".join(lines) + b"\n"


def test_lines_keep_their_numbers_and_bytes_and_unreadable_lines_are_kept() -> None:
    lines = read_lines(file_of(orjson.dumps(envelope(1)), b"", b"not json", b"[1]") + b"  \r\n")
    assert [line.number for line in lines] == [1, 3, 4]
    assert lines[0].event_id == uuid.UUID(int=1)
    assert lines[0].subject == "198503032010011003"
    assert (lines[1].raw, lines[1].event_id, lines[2].document) == (b"not json", None, None)


def test_an_accepted_event_with_the_line_s_json_answers_it_accepted_with_its_sequence() -> None:
    env = envelope(1)
    answers = Answers(read_lines(orjson.dumps(env)), MAX * 100)
    assert answers.unanswered() == 1
    answers.see_accepted(accepted_event(env, 7), fresh=True)
    assert answers.outcomes() == {1: Outcome("accepted", 7)}


def test_a_rejection_answers_the_line_whose_exact_bytes_it_carries() -> None:
    good, bad = orjson.dumps(envelope(1)), orjson.dumps(envelope(2))
    answers = Answers(read_lines(file_of(good, bad, b"garbage")), MAX * 100)
    answers.see_rejected(rejection_event(bad, "signature.invalid", event_id=str(uuid.UUID(int=2))), fresh=True)
    answers.see_rejected(rejection_event(b"garbage", "not_json"), fresh=True)
    outcomes = answers.outcomes()
    assert outcomes[2] == Outcome("rejected", None, ("signature.invalid",))
    assert outcomes[3] == Outcome("rejected", None, ("not_json",))
    assert outcomes[1].status == "no answer"


def test_an_oversize_line_is_answered_by_the_refusal_of_its_first_bytes() -> None:
    long = b'{"pad": "' + b"x" * (MAX * 3) + b'"}'
    short = long[:MAX]
    answers = Answers(read_lines(file_of(long)), MAX)
    answers.see_rejected(rejection_event(short, "not_json"), fresh=True)  # someone else's short line
    assert answers.unanswered() == 1
    answers.see_rejected(rejection_event(short, "oversize"), fresh=True)
    assert answers.outcomes()[1] == Outcome("rejected", None, ("oversize",))


def test_a_repeated_line_is_accepted_once_and_answered_duplicate_once_the_gate_has_read_it() -> None:
    env = envelope(1)
    answers = Answers(read_lines(file_of(orjson.dumps(env), orjson.dumps(env))), 10_000)
    answers.see_accepted(accepted_event(env, 3), fresh=True)
    assert answers.outcomes() == {1: Outcome("accepted", 3), 2: Outcome("no answer")}
    answers.mark_read({2})
    assert answers.outcomes()[2] == Outcome("duplicate", 3)


def test_an_event_accepted_before_publishing_started_makes_the_line_a_duplicate_not_an_acceptance() -> None:
    env = envelope(1)
    answers = Answers(read_lines(orjson.dumps(env)), 10_000)
    answers.see_accepted(accepted_event(env, 2), fresh=False)
    assert answers.outcomes() == {1: Outcome("no answer")}  # maybe not read by the gate yet
    assert answers.outcomes(final=True) == {1: Outcome("duplicate", 2)}


def test_a_forged_line_refused_before_a_genuine_line_with_its_event_id_was_accepted_stays_rejected() -> None:
    genuine = envelope(1)
    forged = {**genuine, "payload": {"value": "120"}}
    answers = Answers(read_lines(file_of(orjson.dumps(forged), orjson.dumps(genuine))), 10_000)
    answers.see_accepted(accepted_event(genuine, 5), fresh=True)  # the topics' order need not be the gate's
    answers.see_rejected(rejection_event(orjson.dumps(forged), "signature.invalid"), fresh=True)
    answers.mark_read({1, 2})
    assert answers.outcomes() == {1: Outcome("rejected", None, ("signature.invalid",)), 2: Outcome("accepted", 5)}


def test_bytes_refused_before_publishing_started_answer_the_line_once_the_gate_has_read_it() -> None:
    answers = Answers(read_lines(b"garbage\n"), 10_000)
    answers.see_rejected(rejection_event(b"garbage", "not_json"), fresh=False)
    assert answers.unanswered() == 1
    answers.mark_read({1})
    assert answers.outcomes()[1] == Outcome("rejected", None, ("not_json",))


def test_the_summary_counts_lines_per_answer_and_rejections_per_code() -> None:
    statuses, codes = summarise({1: Outcome("accepted", 1), 2: Outcome("rejected", None, ("a", "b")),
                                 3: Outcome("rejected", None, ("a",)), 4: Outcome("no answer")})
    assert statuses == {"accepted": 1, "rejected": 2, "no answer": 1}
    assert codes == {"a": 2, "b": 1}


def test_publish_knows_the_evidence_service_s_consumer_group() -> None:
    from objektif.commands.publish import EVIDENCE_GROUP
    from services.evidence.main import GROUP_ID

    assert EVIDENCE_GROUP == GROUP_ID
