package dev.tributary.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The Kafka Streams subjects of the pipeline and tables benches, driven over stdin so that one warm JVM serves
 * every round (as the bench's own subjects run in one warm Node.js process):
 *
 * <pre>
 *   start APP_ID INPUT OUTPUT               ->  started APP_ID   (the pipeline; KafkaStreams.start() was called)
 *   count APP_ID INPUT GUARANTEE STORE      ->  started APP_ID   (groupByKey().count(); at_least_once or
 *                                                                 exactly_once, memory or rocksdb)
 *   stop APP_ID                             ->  stopped APP_ID   (closed, local state directory removed)
 *   quit                                    ->  the JVM exits
 * </pre>
 *
 * A failure of a running application is printed as {@code failed APP_ID <message>}; the bench stops
 * its clock only on the output topic's end offsets, never on anything this program says.
 */
public final class Peer {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: java -jar kafka-streams-peer.jar BOOTSTRAP [STREAM_THREADS]");
            System.exit(2);
        }
        String bootstrap = args[0];
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        Map<String, StreamsRun> running = new HashMap<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        reply("ready");
        for (String line; (line = in.readLine()) != null; ) {
            String[] words = line.trim().split("\\s+");
            try {
                switch (words[0]) {
                    case "start" -> begin(running, words[1],
                        new PipelineRun(bootstrap, threads, words[1], words[2], words[3]));
                    case "count" -> begin(running, words[1],
                        new CountRun(bootstrap, threads, words[1], words[2], words[3], words[4]));
                    case "stop" -> {
                        StreamsRun run = running.remove(words[1]);
                        if (run != null) run.stop();
                        reply("stopped " + words[1]);
                    }
                    case "quit" -> {
                        for (StreamsRun run : running.values()) run.stop();
                        return;
                    }
                    default -> reply("error unknown command: " + line);
                }
            } catch (Exception e) {
                reply("error " + line + ": " + e);
            }
        }
    }

    private static void begin(Map<String, StreamsRun> running, String appId, StreamsRun run) {
        running.put(appId, run);
        run.start(message -> reply("failed " + appId + " " + message));
        reply("started " + appId);
    }

    private static synchronized void reply(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
