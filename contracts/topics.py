"""Kafka topics, their keys and partitions (ARCHITECTURE.md). Every topic is keyed by the subject (NIP or unit),
so each employee's events stay in order within one partition."""

SUBMISSIONS = "objektif.submissions.v1"
EVIDENCE = "objektif.evidence.v1"
REJECTIONS = "objektif.rejections.v1"
SCORES = "objektif.scores.v1"

ALL = (SUBMISSIONS, EVIDENCE, REJECTIONS, SCORES)

#: Default partition count; the deployment may choose more (consumers assume nothing about it).
DEFAULT_PARTITIONS = 3
