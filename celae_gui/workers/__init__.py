"""Background workers: one ``QObject`` per file, run in a ``QThread``, cancelled via an Event."""
