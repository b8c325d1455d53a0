// bench/lmax/LmaxTopologies.java: the five classic topologies on LMAX Disruptor 3.4.4, the
// peer of bench/disruptor.cpp, measured the same way: each iteration publishes 2^16 events,
// the last iteration waits until every last stage has seen the last event, and iterations
// repeat until --benchmark_min_time has passed, after one warm-up run of the row that lasts
// --ringlab_warmup_ms (ringlab-bench's warm-up, bench/main.cpp) and at least long enough
// for the JIT.
//
//   unicast     P -> A                      pipeline   P -> A -> B -> C
//   multicast   P -> {A, B, C}              diamond    P -> {A, B} -> C
//   sequencer   {P1, P2, P3} -> A
//
// It speaks ringlab-bench's protocol (reports/README.md, "External rows"): --ringlab_rows
// lists its rows; --benchmark_filter=, --benchmark_out=, --benchmark_min_time=,
// --benchmark_repetitions= run them and write Google Benchmark's JSON shape; --ringlab_warmup_ms=
// sets the warm-up.
//
// Placement: each row's threads take the CPUs ours take in the same row. --ringlab_planner=
// names ringlab-bench, whose --ringlab_plan=N gives the CPUs of an N-thread row; the producer
// takes the first, stage A, B, C the next ones in turn (as thread_executor hands them out),
// and the sequencer's two other producers follow default_producer_cpus in
// bench/disruptor.cpp. A thread pins itself with taskset on its own thread id. The same rows
// with the knob unpinned_1 leave placement to the scheduler, as LMAX's own perf tests do:
// with two vCPUs, a pair the scheduler happens to put on one CPU runs several times faster
// under a yielding wait than one that spans two far-apart vCPUs, so those rows spread widely.

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.LifecycleAware;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
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
    static final class SummingHandler implements EventHandler<ValueEvent>, LifecycleAware {
        long sum;
        final Sequence done = new Sequence(0);
        final int cpu;  // -1: wherever the scheduler puts its thread
        final CountDownLatch started;
        volatile String pinError;

        SummingHandler(int cpu, CountDownLatch started) {
            this.cpu = cpu;
            this.started = started;
        }

        @Override
        public void onStart() {
            try {
                if (cpu >= 0) pinCurrentThread(cpu);
            } catch (RuntimeException e) {
                pinError = e.getMessage();
            } finally {
                started.countDown();
            }
        }

        @Override
        public void onShutdown() {}

        @Override
        public void onEvent(ValueEvent event, long sequence, boolean endOfBatch) {
            sum += event.value;
            if (endOfBatch) done.set(sequence + 1);
        }
    }

    /** ringlab-bench, which plans the CPUs (--ringlab_planner=); null: rows cannot be pinned. */
    static String planner;

    /** The CPUs ringlab-bench gives a row of `threads` threads, and whether they outnumber the CPUs. */
    static final class Plan {
        final int[] cpus;
        final boolean oversubscribed;

        Plan(int[] cpus, boolean oversubscribed) {
            this.cpus = cpus;
            this.oversubscribed = oversubscribed;
        }
    }

    static Plan plan(int threads) {
        if (planner == null) {
            throw new IllegalStateException("pinned rows need --ringlab_planner=<ringlab-bench>; "
                + "bench/external/lmax.json passes it");
        }
        final String text = runQuiet(planner, "--ringlab_plan=" + threads);
        final Matcher m =
            Pattern.compile("\\\"cpus\\\": \\[([0-9, ]*)\\], \\\"oversubscribed\\\": (true|false)")
                .matcher(text);
        if (!m.find()) {
            throw new IllegalStateException(planner + " --ringlab_plan=" + threads + " printed no plan: " + text);
        }
        final String[] parts = m.group(1).split(", ");
        final int[] cpus = new int[parts.length];
        for (int i = 0; i < parts.length; ++i) cpus[i] = Integer.parseInt(parts[i].trim());
        if (cpus.length != threads) {
            throw new IllegalStateException("a plan of " + cpus.length + " CPUs for " + threads + " threads: " + text);
        }
        return new Plan(cpus, m.group(2).equals("true"));
    }

    /** The CPUs this process may run on, as taskset writes them: where an unpinned row's threads run. */
    static final String ALLOWED = allowedCpus("/proc/self/status");

    static String allowedCpus(String status) {
        try {
            for (String line : Files.readAllLines(Paths.get(status))) {
                if (line.startsWith("Cpus_allowed_list:"))
                    return line.substring("Cpus_allowed_list:".length()).trim();
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + status + ": " + e.getMessage());
        }
        throw new IllegalStateException(status + " names no Cpus_allowed_list");
    }

    static void pinCurrentThread(int cpu) { pinCurrentThread(Integer.toString(cpu)); }

    /** Pins the calling thread to `cpus` (a taskset list): its thread id ends /proc/thread-self. */
    static void pinCurrentThread(String cpus) {
        final String tid;
        try {
            tid = Files.readSymbolicLink(Paths.get("/proc/thread-self")).getFileName().toString();
        } catch (IOException e) {
            throw new IllegalStateException(
                "cannot read this thread's id from /proc/thread-self: " + e.getMessage());
        }
        runQuiet("taskset", "-pc", cpus, tid);
        final String now = allowedCpus("/proc/thread-self/status");
        if (!now.equals(cpus)) {
            throw new IllegalStateException(
                "thread " + tid + " asked for CPUs " + cpus + " and runs on " + now);
        }
    }

    /** Runs a command; returns what it printed, or throws with it when the command fails. */
    static String runQuiet(String... command) {
        try {
            final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException(
                    String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + out.trim());
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(String.join(" ", command) + " could not run: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(String.join(" ", command) + " was interrupted");
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

    static String rowName(String topology, String wait, boolean pinned) {
        return "throughput/peer.lmax." + topology + "/" + wait + (pinned ? "" : "/unpinned_1");
    }

    /** One measured run; returns {events, seconds, cpu seconds}. */
    static double[] run(String topology, String wait, double minTime, boolean pinned) throws InterruptedException {
        final boolean multi = topology.equals("sequencer");
        final Disruptor<ValueEvent> d = new Disruptor<>(ValueEvent::new, RING, DaemonThreadFactory.INSTANCE,
                multi ? ProducerType.MULTI : ProducerType.SINGLE, waitStrategy(wait));
        final Plan plan = pinned ? plan(threads(topology)) : null;
        final int stages = topology.equals("unicast") || multi ? 1 : 3;
        final CountDownLatch started = new CountDownLatch(stages);
        // The stages run on the plan's CPUs after the producer's, in turn (thread_executor).
        final int[] stageCpu = new int[3];
        for (int k = 0; k < 3; ++k) stageCpu[k] = plan == null ? -1 : plan.cpus[1 + k % (plan.cpus.length - 1)];
        final SummingHandler a = new SummingHandler(stageCpu[0], started);
        final SummingHandler b = new SummingHandler(stageCpu[1], started);
        final SummingHandler c = new SummingHandler(stageCpu[2], started);
        final List<SummingHandler> leaves = new ArrayList<>();
        switch (topology) {
            case "unicast": case "sequencer": d.handleEventsWith(a); leaves.add(a); break;
            case "pipeline": d.handleEventsWith(a).then(b).then(c); leaves.add(c); break;
            case "multicast": d.handleEventsWith(a, b, c); leaves.add(a); leaves.add(b); leaves.add(c); break;
            case "diamond": d.handleEventsWith(a, b).then(c); leaves.add(c); break;
            default: throw new IllegalArgumentException("unknown topology " + topology);
        }
        final RingBuffer<ValueEvent> ring = d.start();
        started.await();
        for (SummingHandler h : new SummingHandler[] {a, b, c}) {
            if (h.pinError != null) {
                d.halt();
                throw new IllegalStateException("a stage could not pin itself: " + h.pinError);
            }
        }
        if (plan != null) pinCurrentThread(plan.cpus[0]);
        final AtomicBoolean stop = new AtomicBoolean(false);
        final List<Thread> others = new ArrayList<>();
        if (multi) {
            // default_producer_cpus (bench/disruptor.cpp): with more threads than CPUs, the
            // producers share the first producer's CPU.
            final boolean shared = plan != null && plan.oversubscribed;
            final CountDownLatch producers = new CountDownLatch(2);
            final String[] producerError = new String[1];
            for (int p = 0; p < 2; ++p) {
                final int cpu = plan == null ? -1 : shared ? plan.cpus[0] : plan.cpus[2 + p];
                final Thread t = new Thread(() -> {
                    try {
                        if (cpu >= 0) pinCurrentThread(cpu);
                    } catch (RuntimeException e) {
                        synchronized (producerError) { producerError[0] = e.getMessage(); }
                        stop.set(true);
                    } finally {
                        producers.countDown();
                    }
                    while (!stop.get()) publish(ring, 1);
                });
                t.start();
                others.add(t);
            }
            producers.await();
            synchronized (producerError) {
                if (producerError[0] != null) {
                    for (Thread t : others) t.join();
                    d.halt();
                    throw new IllegalStateException("a producer could not pin itself: " + producerError[0]);
                }
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
        // Threads inherit their creator's CPUs: the next row's must not start from this one's.
        if (plan != null) pinCurrentThread(ALLOWED);
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
                for (boolean pinned : new boolean[] {true, false}) {
                    out.append(first ? "\n" : ",\n");
                    first = false;
                    final String name = rowName(t, w, pinned);
                    out.append(String.format(Locale.ROOT,
                        " {\"name\": \"%s\", \"benchmark\": \"%s/manual_time\", \"kind\": \"throughput\", "
                            + "\"pattern\": \"peer.lmax.%s\", \"wait\": \"%s\", \"group\": \"disruptor.%s\", \"peer\": true, "
                            + "\"threads\": %d, \"bytes_per_event\": 8, \"knobs\": {%s}}",
                        name, name, t, w, t, threads(t), pinned ? "" : "\"unpinned\": 1"));
                }
            }
        }
        return out.append("\n]").toString();
    }

    public static void main(String[] args) throws Exception {
        Pattern filter = Pattern.compile(".*");
        String out = null;
        double minTime = 0.5;
        double warmup = 1.0;  // seconds, as ringlab-bench's default
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
            } else if (arg.startsWith("--ringlab_planner=")) {
                planner = arg.substring("--ringlab_planner=".length());
            } else if (arg.startsWith("--ringlab_warmup_ms=")) {
                final String ms = arg.substring("--ringlab_warmup_ms=".length());
                final long value = ms.matches("[0-9]{1,5}") ? Long.parseLong(ms) : -1;
                if (value < 0 || value > 60000) {
                    System.err.println("LmaxTopologies: --ringlab_warmup_ms= wants milliseconds from 0 to 60000, not '"
                                       + ms + "'");
                    System.exit(2);
                }
                warmup = value / 1000.0;
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
                for (boolean pinned : new boolean[] {true, false}) {
                    final String name = rowName(t, w, pinned);
                    if (!filter.matcher(name + "/manual_time").find() && !filter.matcher(name).find()) continue;
                    run(t, w, Math.max(warmup, Math.min(minTime, 0.2)), pinned);  // warm-up, JIT included
                    for (int r = 0; r < repetitions; ++r) {
                        final double[] m = run(t, w, minTime, pinned);
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
                            m[2] * 1e9 / iterations, rate, m[2] * 1e9 / m[0], threads(t) > cpus ? 1 : 0,
                            threads(t)));
                    }
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
