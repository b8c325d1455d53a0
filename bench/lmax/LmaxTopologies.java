// bench/lmax/LmaxTopologies.java: the five classic topologies on LMAX Disruptor 3.4.4, the
// peer of bench/disruptor.cpp, measured the same way: each iteration publishes 2^16 events,
// the last iteration waits until every last stage has seen the last event, and iterations
// repeat until --benchmark_min_time has passed (after one warm-up run for the JIT).
//
//   unicast     P -> A                      pipeline   P -> A -> B -> C
//   multicast   P -> {A, B, C}              diamond    P -> {A, B} -> C
//   sequencer   {P1, P2, P3} -> A
//
// It speaks ringlab-bench's protocol (reports/README.md, "External rows"): --ringlab_rows
// lists its rows; --benchmark_filter=, --benchmark_out=, --benchmark_min_time=,
// --benchmark_repetitions= run them and write Google Benchmark's JSON shape.

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SleepingWaitStrategy;
import com.lmax.disruptor.TimeoutBlockingWaitStrategy;
import com.lmax.disruptor.WaitStrategy;
import com.lmax.disruptor.YieldingWaitStrategy;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import com.lmax.disruptor.util.DaemonThreadFactory;

import java.io.FileWriter;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

public final class LmaxTopologies {
    static final int RING = 65536;
    static final long EVENTS_PER_ITERATION = 1L << 16;
    static final String[] TOPOLOGIES = {"unicast", "pipeline", "multicast", "diamond", "sequencer"};
    static final String[] WAITS = {"busy_spin_wait", "yielding_wait", "backoff_wait", "blocking_wait",
                                   "timeout_blocking_wait"};

    static final class ValueEvent {
        long value;
    }

    /** Adds values up and exposes how many events it has finished, as a sequence. */
    static final class SummingHandler implements EventHandler<ValueEvent> {
        long sum;
        final Sequence done = new Sequence(0);

        @Override
        public void onEvent(ValueEvent event, long sequence, boolean endOfBatch) {
            sum += event.value;
            if (endOfBatch) done.set(sequence + 1);
        }
    }

    static WaitStrategy waitStrategy(String name) {
        switch (name) {
            case "busy_spin_wait": return new BusySpinWaitStrategy();
            case "yielding_wait": return new YieldingWaitStrategy();
            case "backoff_wait": return new SleepingWaitStrategy();
            case "blocking_wait": return new BlockingWaitStrategy();
            case "timeout_blocking_wait": return new TimeoutBlockingWaitStrategy(1, TimeUnit.MILLISECONDS);
            default: throw new IllegalArgumentException("unknown wait strategy " + name);
        }
    }

    static int threads(String topology) {
        return topology.equals("unicast") ? 2 : 4;
    }

    static String rowName(String topology, String wait) {
        return "throughput/peer.lmax." + topology + "/" + wait;
    }

    /** One measured run; returns {events, seconds, cpu seconds}. */
    static double[] run(String topology, String wait, double minTime) throws InterruptedException {
        final boolean multi = topology.equals("sequencer");
        final Disruptor<ValueEvent> d = new Disruptor<>(ValueEvent::new, RING, DaemonThreadFactory.INSTANCE,
                multi ? ProducerType.MULTI : ProducerType.SINGLE, waitStrategy(wait));
        final SummingHandler a = new SummingHandler();
        final SummingHandler b = new SummingHandler();
        final SummingHandler c = new SummingHandler();
        final List<SummingHandler> leaves = new ArrayList<>();
        switch (topology) {
            case "unicast": case "sequencer": d.handleEventsWith(a); leaves.add(a); break;
            case "pipeline": d.handleEventsWith(a).then(b).then(c); leaves.add(c); break;
            case "multicast": d.handleEventsWith(a, b, c); leaves.add(a); leaves.add(b); leaves.add(c); break;
            case "diamond": d.handleEventsWith(a, b).then(c); leaves.add(c); break;
            default: throw new IllegalArgumentException("unknown topology " + topology);
        }
        final RingBuffer<ValueEvent> ring = d.start();
        final AtomicBoolean stop = new AtomicBoolean(false);
        final List<Thread> others = new ArrayList<>();
        if (multi) {
            for (int p = 0; p < 2; ++p) {
                final Thread t = new Thread(() -> {
                    while (!stop.get()) publish(ring, 1);
                });
                t.start();
                others.add(t);
            }
        }
        final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        final long cpu0 = os.getProcessCpuTime();
        final long drained0 = drained(leaves);
        final long start = System.nanoTime();
        final long deadline = start + (long) (minTime * 1e9);
        for (;;) {
            for (long i = 0; i < EVENTS_PER_ITERATION; ++i) publish(ring, i);
            if (System.nanoTime() >= deadline) break;
        }
        stop.set(true);
        for (Thread t : others) t.join();
        final long end = ring.getCursor() + 1;
        while (drained(leaves) < end) Thread.onSpinWait();
        final long elapsed = System.nanoTime() - start;
        final long cpu = os.getProcessCpuTime() - cpu0;
        final long events = drained(leaves) - drained0;
        d.halt();
        return new double[] {events, elapsed / 1e9, cpu / 1e9};
    }

    static long drained(List<SummingHandler> leaves) {
        long lowest = Long.MAX_VALUE;
        for (SummingHandler h : leaves) lowest = Math.min(lowest, h.done.get());
        return lowest;
    }

    static void publish(RingBuffer<ValueEvent> ring, long value) {
        final long sequence = ring.next();
        ring.get(sequence).value = value;
        ring.publish(sequence);
    }

    static String rowsJson() {
        final StringBuilder out = new StringBuilder("[");
        boolean first = true;
        for (String t : TOPOLOGIES) {
            for (String w : WAITS) {
                out.append(first ? "\n" : ",\n");
                first = false;
                final String name = rowName(t, w);
                out.append(String.format(Locale.ROOT,
                    " {\"name\": \"%s\", \"benchmark\": \"%s/manual_time\", \"kind\": \"throughput\", "
                    + "\"pattern\": \"peer.lmax.%s\", \"wait\": \"%s\", \"group\": \"disruptor.%s\", \"peer\": true, "
                    + "\"threads\": %d, \"bytes_per_event\": 8, \"knobs\": {}}",
                    name, name, t, w, t, threads(t)));
            }
        }
        return out.append("\n]").toString();
    }

    public static void main(String[] args) throws Exception {
        Pattern filter = Pattern.compile(".*");
        String out = null;
        double minTime = 0.5;
        int repetitions = 1;
        for (String arg : args) {
            if (arg.equals("--ringlab_rows")) {
                System.out.println(rowsJson());
                return;
            } else if (arg.startsWith("--benchmark_filter=")) {
                filter = Pattern.compile(arg.substring("--benchmark_filter=".length()));
            } else if (arg.startsWith("--benchmark_out=")) {
                out = arg.substring("--benchmark_out=".length());
            } else if (arg.startsWith("--benchmark_min_time=")) {
                minTime = Double.parseDouble(arg.substring("--benchmark_min_time=".length()).replace("s", ""));
            } else if (arg.startsWith("--benchmark_repetitions=")) {
                repetitions = Integer.parseInt(arg.substring("--benchmark_repetitions=".length()));
            }  // other Google Benchmark flags (format, context, aggregates) change nothing here
        }
        final int cpus = Runtime.getRuntime().availableProcessors();
        final StringBuilder json = new StringBuilder();
        json.append("{\n \"context\": {\"executable\": \"LmaxTopologies\", \"library_build_type\": \"release\", ")
            .append("\"lmax_disruptor\": \"3.4.4\", \"java_version\": \"").append(System.getProperty("java.version"))
            .append("\", \"num_cpus\": ").append(cpus).append("},\n \"benchmarks\": [");
        boolean first = true;
        for (String t : TOPOLOGIES) {
            for (String w : WAITS) {
                final String name = rowName(t, w);
                if (!filter.matcher(name + "/manual_time").find() && !filter.matcher(name).find()) continue;
                run(t, w, Math.min(minTime, 0.2));  // warm the JIT up
                for (int r = 0; r < repetitions; ++r) {
                    final double[] m = run(t, w, minTime);
                    final double rate = m[0] / m[1];
                    final double iterations = Math.max(1, Math.round(m[0] / EVENTS_PER_ITERATION));
                    System.out.printf(Locale.ROOT, "%-50s %10.1f M events/s%n", name, rate / 1e6);
                    json.append(first ? "\n" : ",\n");
                    first = false;
                    json.append(String.format(Locale.ROOT,
                        "  {\"name\": \"%s/manual_time\", \"run_name\": \"%s/manual_time\", \"run_type\": \"iteration\", "
                        + "\"repetitions\": %d, \"repetition_index\": %d, \"threads\": 1, \"iterations\": %d, "
                        + "\"real_time\": %.3f, \"cpu_time\": %.3f, \"time_unit\": \"ns\", \"items_per_second\": %.1f, "
                        + "\"cpu_ns_per_event\": %.3f, \"oversubscribed\": %d, \"threads_used\": %d}",
                        name, name, repetitions, r, (long) iterations, m[1] * 1e9 / iterations,
                        m[2] * 1e9 / iterations, rate, m[2] * 1e9 / m[0], threads(t) > cpus ? 1 : 0, threads(t)));
                }
            }
        }
        json.append("\n ]\n}\n");
        if (out != null) {
            try (FileWriter w = new FileWriter(out)) {
                w.write(json.toString());
            }
        }
    }
}
