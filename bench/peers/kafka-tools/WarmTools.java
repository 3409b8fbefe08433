import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Runs Kafka's command-line tools (ProducerPerformance, ConsumerPerformance) again and again in one
 * JVM, so that the transport bench compares warm JIT-compiled clients with warm Node.js ones instead
 * of a cold JVM per run. Launched in source-file mode on the broker's jars:
 *
 * <pre>
 *   java -cp '.kafka/lib/*' bench/peers/kafka-tools/WarmTools.java
 *   org.apache.kafka.tools.ProducerPerformance --topic t ...   (one run: the class, then its args)
 *   ... the tool's own output ...
 *   @@done                                                       (or @@failed MESSAGE)
 * </pre>
 */
public final class WarmTools {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("@@ready");
        System.out.flush();
        for (String line; (line = in.readLine()) != null; ) {
            String[] words = line.trim().split("\\s+");
            if (words[0].equals("quit")) return;
            try {
                Class.forName(words[0])
                    .getMethod("main", String[].class)
                    .invoke(null, (Object) Arrays.copyOfRange(words, 1, words.length));
                System.out.println("@@done");
            } catch (InvocationTargetException e) {
                System.out.println("@@failed " + String.valueOf(e.getCause()).replace('\n', ' '));
            } catch (ReflectiveOperationException e) {
                System.out.println("@@failed " + e);
            }
            System.out.flush();
        }
    }
}
