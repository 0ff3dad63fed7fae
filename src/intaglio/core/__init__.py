"""The floor every domain app stands on: the refusal error family, the audit log, outbound-host checks, the
periodic scheduler and the owner-scoped access helper. It imports nothing from the apps above it."""
