package dev.tributary.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;

/** One run's Kafka Streams application, in a fresh state directory that stop() removes. */
abstract class StreamsRun {
    private final Path stateDir;
    private KafkaStreams streams;

    StreamsRun() throws IOException {
        stateDir = Files.createTempDirectory("bench-kafka-streams-");
    }

    abstract Topology topology();

    /** Starts the application; `onFailure` gets a stream thread's uncaught exception. */
    abstract void start(Consumer<String> onFailure);

    /**
     * The settings that differ from Kafka Streams' defaults, each matching the Tributary subject:
     * the guarantee, a 100 ms commit interval (the Tributary subjects' commitIntervalMs; Kafka
     * Streams' own default is 30 s at-least-once and 100 ms exactly-once), one stream thread (one
     * Node.js worker) and earliest for a new group. Everything else (producer linger 100 ms and acks
     * all, max.poll.records 1000, a 10 MB record cache) stays as Kafka Streams ships it, since that is
     * what its users run.
     */
    Properties settings(String bootstrap, int threads, String appId, String guarantee) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        return props;
    }

    void launch(Properties settings, Consumer<String> onFailure) {
        streams = new KafkaStreams(topology(), settings);
        streams.setUncaughtExceptionHandler(error -> {
            onFailure.accept(String.valueOf(error).replace('\n', ' '));
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
    }

    void stop() {
        if (streams != null) {
            streams.close(Duration.ofSeconds(30));
            streams.cleanUp();
        }
        try (var files = Files.walk(stateDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // A leftover empty temp directory is harmless.
        }
    }
}
