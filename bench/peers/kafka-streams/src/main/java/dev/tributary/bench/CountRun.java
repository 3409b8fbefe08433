package dev.tributary.bench;

import java.io.IOException;
import java.util.function.Consumer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * One round's application of the tables bench: {@code groupByKey().count()} of the input's string
 * keys into the store "counts" (changelog {@code APP_ID-counts-changelog}, as the Tributary table's),
 * in memory ({@code Stores.inMemoryKeyValueStore}) or in RocksDB (Kafka Streams' default store).
 */
final class CountRun extends StreamsRun {
    static final String STORE = "counts";

    private final String bootstrap;
    private final int threads;
    private final String appId;
    private final String input;
    private final String guarantee;
    private final boolean inMemory;

    CountRun(String bootstrap, int threads, String appId, String input, String guarantee, String store)
        throws IOException {
        if (!guarantee.equals("at_least_once") && !guarantee.equals("exactly_once"))
            throw new IllegalArgumentException("guarantee must be at_least_once or exactly_once: " + guarantee);
        if (!store.equals("memory") && !store.equals("rocksdb"))
            throw new IllegalArgumentException("store must be memory or rocksdb: " + store);
        this.bootstrap = bootstrap;
        this.threads = threads;
        this.appId = appId;
        this.input = input;
        this.guarantee = guarantee.equals("exactly_once") ? StreamsConfig.EXACTLY_ONCE_V2 : StreamsConfig.AT_LEAST_ONCE;
        this.inMemory = store.equals("memory");
    }

    @Override
    Topology topology() {
        StreamsBuilder builder = new StreamsBuilder();
        Materialized<String, Long, KeyValueStore<Bytes, byte[]>> store = inMemory
            ? Materialized.<String, Long>as(Stores.inMemoryKeyValueStore(STORE))
            : Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as(STORE);
        builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
            .count(store.withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()));
        return builder.build();
    }

    @Override
    void start(Consumer<String> onFailure) {
        launch(settings(bootstrap, threads, appId, guarantee), onFailure);
    }
}
