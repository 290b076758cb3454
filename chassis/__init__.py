"""The microservice chassis: what every Objektif service needs and none of them decides.

Settings, logging, the PostgreSQL pool and schema migration, gap-free counters per partition, Kafka topic setup, the
transactional-outbox relay and consumer tracking. No domain rules live here; services depend on `contracts/` and
on this chassis, never on each other (docs/adr/0002-chassis.md).
"""
