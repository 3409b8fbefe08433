package dev.tributary.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * One round's application: rides (JSON) -> filter amount >= 10 -> map to per-mile (JSON) -> output,
 * the workload of bench/pipeline.ts, keyed by vendor as the input is.
 */
final class PipelineRun {
    private final KafkaStreams streams;
    private final Path stateDir;

    PipelineRun(String bootstrap, int threads, String appId, String input, String output) throws IOException {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.String(), Json.RIDE))
            .filter((vendor, ride) -> ride.amount() >= 10)
            .mapValues(PerMile::of)
            .to(output, Produced.with(Serdes.String(), Json.PER_MILE));
        stateDir = Files.createTempDirectory("bench-kafka-streams-");
        streams = new KafkaStreams(builder.build(), settings(bootstrap, threads, appId));
    }

    /**
     * The settings that differ from Kafka Streams' defaults, each matching the Tributary agent:
     * at-least-once (the default, named for clarity), a 100 ms commit interval (the agent's
     * commitIntervalMs; Kafka Streams' at-least-once default is 30 s), one stream thread (one Node.js
     * worker) and earliest for a new group. Everything else (producer linger 100 ms and acks all,
     * max.poll.records 1000) stays as Kafka Streams ships it, since that is what its users run.
     */
    private Properties settings(String bootstrap, int threads, String appId) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        return props;
    }

    void start(Consumer<String> onFailure) {
        streams.setUncaughtExceptionHandler(error -> {
            onFailure.accept(String.valueOf(error).replace('\n', ' '));
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
    }

    void stop() {
        streams.close(Duration.ofSeconds(30));
        streams.cleanUp();
        try (var files = Files.walk(stateDir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // A leftover empty temp directory is harmless.
        }
    }
}
