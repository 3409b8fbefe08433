package dev.tributary.bench;

/** The bench's output record: the per-mile price of a ride (0 for a ride of no distance). */
record PerMile(long id, String vendor, double perMile) {
    static PerMile of(Ride ride) {
        return new PerMile(ride.id(), ride.vendor(), ride.distance() > 0 ? ride.amount() / ride.distance() : 0);
    }
}
