package dev.tributary.bench;

/** The bench's input record, as bench/pipeline.ts writes it. */
record Ride(long id, String vendor, double amount, double distance, String note) {}
