"""`objektif publish FILE.jsonl [--bootstrap HOST:PORT | --http URL] [--wait SECONDS] [--report OUT.jsonl]`.

Sends every non-blank line of a file of signed envelopes (`objektif sign`) to the evidence service exactly as it
is: to `objektif.submissions.v1` keyed by the subject, or with `--http` to `POST /submissions` as NDJSON. Then
says what became of each line: accepted, rejected (with the reason codes), duplicate, or no answer yet.

Over Kafka the answers come from the service's output topics, read from the beginning with a manual assignment
(no consumer group: nothing is committed, nothing is taken from the service), for at most `--wait` seconds
(objektif/publish_answers.py explains the matching). Over HTTP they come in the responses.

Exit code: 0 when every line was answered (whatever the answer), 1 when some were not, 2 for a file without lines.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contracts import topics
from objektif.publish_answers import Answers, Line, Outcome, read_lines, summarise
from services.evidence.domain import MAX_BYTES

EXIT_UNANSWERED = 1
EXIT_BAD_INPUT = 2
ENV_BOOTSTRAP = "OBJEKTIF_KAFKA_BOOTSTRAP"
#: The evidence service's consumer group (services/evidence/main.py GROUP_ID): its committed offsets say which
#: lines the gate has read.
EVIDENCE_GROUP = "objektif-evidence"
#: An answer that only the gate's having read a line makes certain waits this long after the commit is seen, for
#: the service's outbox relay to publish a newer answer first.
SETTLE_SECONDS = 1.0
_SHOWN = 20

console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


# --- Kafka --------------------------------------------------------------------------------------------------


async def _gate_read_upto(watcher: Any, partitions: set[int]) -> dict[int, int]:
    """The evidence group's committed offset per partition of the submissions topic (what it has not answered
    for is unknown). `watcher` is a consumer with the group's id that never joins it nor commits: it only asks
    the coordinator (OffsetFetch). aiokafka's admin client cannot ask the embedded broker (Tansu) this."""
    from aiokafka import TopicPartition
    from aiokafka.errors import KafkaError

    upto: dict[int, int] = {}
    for partition in partitions:
        try:
            offset = await watcher.committed(TopicPartition(topics.SUBMISSIONS, partition))
        except KafkaError:
            continue
        if isinstance(offset, int):
            upto[partition] = offset
    return upto


async def publish_kafka(bootstrap: str, lines: tuple[Line, ...], wait: float, on_sent: Callable[[int], None],
                        on_answered: Callable[[int], None] = lambda _n: None) -> Answers:
    """Publish the lines, then collect answers until all are answered or `wait` seconds have passed."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.errors import KafkaError

    answers = Answers(lines, MAX_BYTES)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in (topics.EVIDENCE, topics.REJECTIONS)
                      for p in sorted(consumer.partitions_for_topic(t) or await _partitions(consumer, t))]
        consumer.assign(partitions)
        snapshot = await consumer.end_offsets(partitions)  # what was published before we start
        placed: dict[int, tuple[int, int]] = {}
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False,
                                    linger_ms=5, max_request_size=16 * 1024 * 1024)
        await producer.start()
        try:
            pending = []
            for line in lines:
                key = line.subject.encode() if line.subject else None
                pending.append((line, await producer.send(topics.SUBMISSIONS, line.raw, key=key)))
            for line, future in pending:
                try:
                    meta = await future
                    placed[line.number] = (meta.partition, meta.offset)
                except KafkaError as error:
                    console.print(f"line {line.number}: not sent ({type(error).__name__}: {error})")
                on_sent(1)
        finally:
            await producer.stop()
        await consumer.seek_to_beginning(*partitions)
        watcher = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=EVIDENCE_GROUP, enable_auto_commit=False)
        await watcher.start()
        try:
            await _collect(consumer, watcher, answers, snapshot, placed, time.monotonic() + wait,
                           lambda: on_answered(len(lines) - answers.unanswered()))
        finally:
            await watcher.stop()
        return answers
    finally:
        await consumer.stop()


async def _collect(consumer: Any, watcher: Any, answers: Answers, snapshot: dict[Any, int],
                   placed: dict[int, tuple[int, int]], deadline: float, on_progress: Callable[[], None]) -> None:
    """Read both output topics into `answers` until every line is answered or the deadline passes."""
    read_since: dict[int, float] = {}
    next_check = 0.0
    while answers.unanswered() and time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=300, max_records=5000)
        for tp, records in batches.items():
            for r in records:
                fresh = r.offset >= snapshot[tp]
                if tp.topic == topics.EVIDENCE:
                    answers.see_accepted(r.value or b"{}", fresh)
                else:
                    answers.see_rejected(r.value or b"{}", fresh)
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + 0.5
            upto = await _gate_read_upto(watcher, {p for p, _ in placed.values()})
            now = time.monotonic()
            for number, (partition, offset) in placed.items():
                if upto.get(partition, -1) > offset:
                    read_since.setdefault(number, now)
            answers.mark_read({n for n, t in read_since.items() if now - t >= SETTLE_SECONDS})
        on_progress()


async def _partitions(consumer: object, topic: str) -> set[int]:
    """A topic's partitions once the consumer's metadata knows them (it may not on the first ask)."""
    for _ in range(50):
        found = consumer.partitions_for_topic(topic)  # type: ignore[attr-defined]
        if found:
            return set(found)
        await consumer.force_metadata_update()  # type: ignore[attr-defined]
        await asyncio.sleep(0.1)
    raise typer.BadParameter(f"topic {topic} has no partitions (is the evidence service set up?)")


# --- HTTP ---------------------------------------------------------------------------------------------------


def publish_http(url: str, lines: tuple[Line, ...], wait: float, on_sent: Callable[[int], None], *,
                 chunk_lines: int = 500, chunk_bytes: int = 4 * 1024 * 1024,
                 client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> dict[int, Outcome]:
    """POST the lines as NDJSON in chunks; each response answers its lines. A refused chunk (rate, size) is
    retried (smaller when too large) until `wait` seconds have passed. `client` replaces the one made for `url`."""
    outcomes = {line.number: Outcome("no answer") for line in lines}
    deadline = time.monotonic() + wait
    chunks = _chunks(lines, chunk_lines, chunk_bytes)
    with client or httpx.Client(base_url=url.rstrip("/"), timeout=60.0) as client:
        while chunks and time.monotonic() < deadline:
            chunk = chunks.pop(0)
            try:
                response = client.post("/submissions", content=b"\n".join(line.raw for line in chunk) + b"\n",
                                       headers={"content-type": "application/x-ndjson"})
            except httpx.HTTPError as error:
                console.print(f"lines {chunk[0].number}–{chunk[-1].number}: {type(error).__name__}: {error}")
                continue
            body = response.json() if response.headers.get("content-type", "").startswith("application/json") \
                else {}
            if response.status_code in (202, 207, 422) and "results" in body:
                for line, result in zip(chunk, body["results"], strict=True):
                    outcomes[line.number] = _http_outcome(result["answer"])
                on_sent(len(chunk))
            elif response.status_code == 413 and len(chunk) > 1:
                half = len(chunk) // 2
                chunks[:0] = [chunk[:half], chunk[half:]]
            elif response.status_code in (429, 503):
                sleep(min(float(response.headers.get("retry-after", "1")), max(deadline - time.monotonic(), 0)))
                chunks.insert(0, chunk)
            else:
                console.print(f"lines {chunk[0].number}–{chunk[-1].number}: HTTP {response.status_code} "
                              f"{response.text[:300]}")
    return outcomes


def _chunks(lines: tuple[Line, ...], most_lines: int, most_bytes: int) -> list[list[Line]]:
    chunks: list[list[Line]] = [[]]
    size = 0
    for line in lines:
        if chunks[-1] and (len(chunks[-1]) >= most_lines or size + len(line.raw) + 1 > most_bytes):
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line.raw) + 1
    return [c for c in chunks if c]


def _http_outcome(answer: dict[str, Any]) -> Outcome:
    """A line's answer from the service's JSON (services/evidence/adapters/http_openapi.py)."""
    sequence = answer.get("sequence") if isinstance(answer.get("sequence"), int) else None
    match answer.get("status"):
        case "rejected":
            return Outcome("rejected", None, tuple(str(r.get("code")) for r in answer.get("reasons") or ()))
        case "accepted":
            return Outcome("accepted", sequence)
        case "duplicate":
            return Outcome("duplicate", sequence)
    return Outcome("no answer")


# --- the command --------------------------------------------------------------------------------------------


def show_summary(lines: tuple[Line, ...], outcomes: dict[int, Outcome]) -> None:
    """Totals per status, rejections per reason code, and the first rejected and unanswered lines."""
    statuses, codes = summarise(outcomes)
    table = Table(title=f"{len(lines)} submission(s)")
    table.add_column("answer")
    table.add_column("lines", justify="right")
    for status in ("accepted", "rejected", "duplicate", "no answer"):
        table.add_row(status, str(statuses.get(status, 0)))
    for code, n in sorted(codes.items()):
        table.add_row(f"  rejected: {code}", str(n))
    console.print(table)
    by_number = {line.number: line for line in lines}
    notable = [(n, o) for n, o in sorted(outcomes.items()) if o.status in ("rejected", "no answer")]
    for n, o in notable[:_SHOWN]:
        event_id = by_number[n].event_id or "(no event id)"
        console.print(f"line {n} {event_id}: {o.status}" + (f" ({', '.join(o.codes)})" if o.codes else ""))
    if len(notable) > _SHOWN:
        console.print(f"… and {len(notable) - _SHOWN} more")


def publish(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Signed envelopes, one a line.")],
    bootstrap: Annotated[str | None, typer.Option(envvar=ENV_BOOTSTRAP, help="Kafka bootstrap servers.")] = None,
    http: Annotated[str | None, typer.Option(help="The evidence service's base URL; HTTP instead of Kafka.")] = None,
    wait: Annotated[float, typer.Option(min=0, help="Seconds to wait for the answers.")] = 60.0,
    report: Annotated[Path | None, typer.Option(dir_okay=False, help="Write each line's answer (JSONL).")] = None,
) -> None:
    """Publish signed submissions and report what became of each."""
    lines = read_lines(file.read_bytes())
    if not lines:
        console.print(f"{file}: no submissions")
        raise typer.Exit(EXIT_BAD_INPUT)
    if http is None and not bootstrap:
        console.print(f"give --bootstrap (or {ENV_BOOTSTRAP}) or --http")
        raise typer.Exit(EXIT_BAD_INPUT)
    with _progress() as progress:
        task = progress.add_task("publishing", total=len(lines))

        def sent(n: int) -> None:
            progress.advance(task, n)

        if http is not None:
            outcomes = publish_http(http, lines, wait, sent)
        else:
            assert bootstrap is not None
            answered = progress.add_task("answered", total=len(lines))
            answers = asyncio.run(publish_kafka(bootstrap, lines, wait, sent,
                                                lambda n: progress.update(answered, completed=n)))
            outcomes = answers.outcomes(final=True)
            progress.update(answered, completed=sum(o.status != "no answer" for o in outcomes.values()))
    show_summary(lines, outcomes)
    if report is not None:
        write_report(report, lines, outcomes)
    if any(o.status == "no answer" for o in outcomes.values()):
        raise typer.Exit(EXIT_UNANSWERED)


def write_report(path: Path, lines: tuple[Line, ...], outcomes: dict[int, Outcome]) -> None:
    """One JSON object a line: line number, event id, answer, sequence, reason codes."""
    rows = (
        {"line": line.number, "event_id": str(line.event_id) if line.event_id else None,
         "status": outcomes[line.number].status, "sequence": outcomes[line.number].sequence,
         "codes": list(outcomes[line.number].codes)}
        for line in lines
    )
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))


def register(app: typer.Typer) -> None:
    """Add `objektif publish` to the CLI."""
    app.command("publish")(publish)


__all__ = ["register"]
