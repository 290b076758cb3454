"""The benchmark's one-vs-two-instance comparison adds up right: a service's CPU is the sum of its instances,
`--instances` reads counts, and each count's row is a ratio to the run's own COPY+upsert baseline."""

from __future__ import annotations

import pytest

from bench.__main__ import parser
from bench.report import scale_out_lines
from bench.run import Config
from bench.scale_out import by_service, micros_per_submission, parse_instances, processed_total, scale_out_row


def test_a_services_cpu_is_the_sum_of_its_instances_and_the_rest_is_kept_as_it_is() -> None:
    per_process = {"evidence": 1.5, "evidence#2": 0.25, "scoring": 2.0, "scoring#2": 1.0, "scoring#3": 0.5,
                   "audit": 0.5, "broker": 0.75, "postgres": 3.0, "machine_busy": 12.0}
    assert by_service(per_process) == {"evidence": 1.75, "scoring": 3.5, "audit": 0.5, "broker": 0.75,
                                       "postgres": 3.0, "machine_busy": 12.0}


def test_one_instance_each_sums_to_the_same_figures() -> None:
    one = {"evidence": 1.25, "scoring": 2.0, "audit": 0.5, "machine_busy": 4.0}
    assert by_service(one) == one


def test_instances_are_read_as_distinct_counts_of_at_least_one() -> None:
    assert parse_instances("1") == (1,)
    assert parse_instances("1,2") == (1, 2)
    assert parse_instances(" 2 , 1") == (2, 1)
    for bad in ("", "0", "1,1", "-1", "two", "1,,2"):
        with pytest.raises(ValueError, match="--instances"):
            parse_instances(bad)


def test_the_default_run_is_one_instance_per_group_on_the_stacks_partitions() -> None:
    assert (Config().instances, Config().partitions) == ((1,), None)
    args = parser().parse_args([])
    assert (args.instances, args.partitions) == ((1,), None)
    assert parser().parse_args(["--instances", "1,2"]).instances == (1, 2)


def test_cpu_per_submission_is_in_microseconds() -> None:
    assert micros_per_submission({"evidence": 1.5, "machine_busy": 5.0}, 20_000) == {"evidence": 75.0,
                                                                                       "machine_busy": 250.0}
    assert micros_per_submission({"evidence": 1.0}, 0) == {"evidence": 0.0}


def test_records_processed_are_summed_over_topics_from_the_metrics_text() -> None:
    text = "\n".join([
        "# HELP objektif_events_processed_total Records consumed and handled, by topic",
        "# TYPE objektif_events_processed_total counter",
        'objektif_events_processed_total{service="audit",topic="objektif.evidence.v1"} 1200.0',
        'objektif_events_processed_total{service="audit",topic="objektif.scores.v1"} 300.0',
        'objektif_events_processed_created{service="audit",topic="objektif.scores.v1"} 1.7e9',
        'objektif_batch_seconds_count{service="audit"} 9.0',
    ])
    assert processed_total(text) == 1500.0


def test_a_scale_out_row_is_a_ratio_to_the_copy_baseline_with_cpu_per_submission_per_service() -> None:
    def phase(per_second: float, submissions: int) -> dict[str, object]:
        return {"submissions": submissions, "per_second": per_second,
                "cpu_seconds": {"evidence": 2.0, "scoring": 3.0, "audit": 1.0, "broker": 0.5, "postgres": 4.0,
                                "machine_busy": 20.0}}

    row = scale_out_row(2, 6, phase(5_000.0, 20_000), phase(2_000.0, 2_000), 100_000.0, 8_000.0)
    assert (row["instances"], row["partitions"]) == (2, 6)
    assert row["bulk"]["ratio_to_copy_upsert"] == 0.05
    assert row["bulk"]["cpu_us_per_submission"] == {"evidence": 100.0, "scoring": 150.0, "audit": 50.0,
                                                    "broker": 25.0, "postgres": 200.0, "machine_busy": 1000.0}
    assert row["single"]["cpu_us_per_submission"]["machine_busy"] == 10_000.0
    assert (row["single"]["ratio_to_ed25519"], "ratio_to_ed25519" in row["bulk"]) == (0.25, False)
    lines = scale_out_lines({"scale_out": {"rows": [row]}})
    assert "6 partitions" in lines[0] and "summed" in lines[0]
    assert "5,000 ev/s, 0.050 of COPY+upsert" in lines[1] and "machine 100 / 150 / 50 / 25 / 200 / 1,000" in lines[1]
    assert "2,000 ev/s, 0.020 of COPY+upsert, 0.250 of Ed25519" in lines[2]
    assert scale_out_lines({}) == []
