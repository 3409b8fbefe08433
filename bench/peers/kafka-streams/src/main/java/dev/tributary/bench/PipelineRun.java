package dev.tributary.bench;

import java.io.IOException;
import java.util.function.Consumer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * One round's application of the pipeline bench: rides (JSON) -> filter amount >= 10 -> map to
 * per-mile (JSON) -> output, keyed by vendor as the input is; at-least-once.
 */
final class PipelineRun extends StreamsRun {
    private final String bootstrap;
    private final int threads;
    private final String appId;
    private final String input;
    private final String output;

    PipelineRun(String bootstrap, int threads, String appId, String input, String output) throws IOException {
        this.bootstrap = bootstrap;
        this.threads = threads;
        this.appId = appId;
        this.input = input;
        this.output = output;
    }

    @Override
    Topology topology() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.String(), Json.RIDE))
            .filter((vendor, ride) -> ride.amount() >= 10)
            .mapValues(PerMile::of)
            .to(output, Produced.with(Serdes.String(), Json.PER_MILE));
        return builder.build();
    }

    @Override
    void start(Consumer<String> onFailure) {
        launch(settings(bootstrap, threads, appId, StreamsConfig.AT_LEAST_ONCE), onFailure);
    }
}
