package dev.tributary.bench;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** JSON serdes of the bench records (Jackson data binding, one shared mapper). */
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final ObjectReader RIDE_READER = MAPPER.readerFor(Ride.class);

    static final Serde<Ride> RIDE = Serdes.serdeFrom(
        (topic, ride) -> { throw new UnsupportedOperationException("rides are only read"); },
        (topic, bytes) -> {
            try {
                return bytes == null ? null : RIDE_READER.readValue(bytes);
            } catch (IOException e) {
                throw new UncheckedIOException("ride in " + topic + " is not JSON", e);
            }
        });

    static final Serde<PerMile> PER_MILE = Serdes.serdeFrom(
        (topic, out) -> out == null ? null : write(out),
        (topic, bytes) -> { throw new UnsupportedOperationException("per-mile records are only written"); });

    /**
     * Writes {"id":..,"vendor":..,"perMile":..} as JSON.stringify does in the Node.js subjects: a
     * whole number without a fraction (2, not 2.0), so every subject's output is byte for byte alike.
     */
    private static byte[] write(PerMile out) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (JsonGenerator json = MAPPER.getFactory().createGenerator(bytes)) {
            json.writeStartObject();
            json.writeNumberField("id", out.id());
            json.writeStringField("vendor", out.vendor());
            double perMile = out.perMile();
            if (perMile == Math.rint(perMile) && Math.abs(perMile) < 1e15) json.writeNumberField("perMile", (long) perMile);
            else json.writeNumberField("perMile", perMile);
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private Json() {}
}
