"""The outbox relays partition records themselves (`KeyedBatchProducer`): an employee's events must land where any
other Kafka producer would put them, or per-employee order across producers breaks."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from chassis.kafka import partition_of

NIPS = st.from_regex(r"\A(19|20)[0-9]{16}\Z", fullmatch=True)


@given(key=st.one_of(NIPS.map(str.encode), st.binary(min_size=1, max_size=64)),
       count=st.integers(min_value=1, max_value=64))
def test_the_partition_is_the_default_partitioners(key: bytes, count: int) -> None:
    partitions = list(range(count))
    assert partition_of(key, partitions) == DefaultPartitioner()(key, partitions, partitions)

