package io.gpumarket.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A real Prometheus (Debian's {@code /usr/bin/prometheus}) scraping given targets every second,
 * with its storage in a temporary directory. Stop it with {@link #stop()} (or try-with-resources);
 * one still running at JVM exit is stopped then.
 */
public final class PrometheusServer implements AutoCloseable {

  /** One element of an instant vector: its labels (with {@code __name__}) and its value. */
  public record Sample(Map<String, String> labels, double value) {
    public String label(String name) {
      return labels.get(name);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String BINARY =
      System.getProperty("gpumarket.e2e.prometheus", "/usr/bin/prometheus");

  /**
   * Runs Prometheus under a shell that stops it when this JVM is gone, even killed with SIGKILL
   * (shutdown hooks do not run then), or when the shell itself is told to stop.
   */
  private static final String GUARD =
      String.join(
          "\n",
          "owner=$1; shift",
          "\"$@\" & child=$!",
          "trap 'kill $child 2>/dev/null; wait $child; exit 0' TERM INT",
          "while kill -0 $owner 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done",
          "kill $child 2>/dev/null",
          "wait $child");

  private final Process process;
  private final Path dir;
  private final int port;
  private final HttpClient http = HttpClient.newHttpClient();
  private final Thread shutdownHook;

  private PrometheusServer(Process process, Path dir, int port) {
    this.process = process;
    this.dir = dir;
    this.port = port;
    this.shutdownHook =
        new Thread(
            () -> {
              kill(process);
              deleteTree(dir);
            },
            "prometheus-stop");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Starts Prometheus scraping {@code /metrics} of each job's {@code host:port} targets every
   * second, and waits until it is ready.
   */
  public static PrometheusServer start(Map<String, List<String>> targetsByJob) {
    return start(targetsByJob, Duration.ofSeconds(1));
  }

  /** Starts Prometheus scraping each job's targets at the given interval. */
  public static PrometheusServer start(
      Map<String, List<String>> targetsByJob, Duration scrapeInterval) {
    Path dir;
    try {
      dir = Files.createTempDirectory("gpumarket-prometheus");
      Files.writeString(dir.resolve("prometheus.yml"), config(targetsByJob, scrapeInterval));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // The free port may be taken between our probe and Prometheus' bind; then try another.
    IllegalStateException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int port = freePort();
      try {
        return launch(dir, port);
      } catch (IllegalStateException e) {
        last = e;
        if (!e.getMessage().contains("address already in use")) {
          break;
        }
      }
    }
    deleteTree(dir);
    throw last;
  }

  private static String config(Map<String, List<String>> targetsByJob, Duration interval) {
    String seconds = interval.toMillis() + "ms";
    StringBuilder yaml = new StringBuilder();
    yaml.append("global:\n")
        .append("  scrape_interval: ")
        .append(seconds)
        .append("\n")
        // The timeout may not exceed the interval, and its default (10 s) does.
        .append("  scrape_timeout: ")
        .append(seconds)
        .append("\n")
        .append("  evaluation_interval: ")
        .append(seconds)
        .append("\n")
        .append("scrape_configs:\n");
    targetsByJob.forEach(
        (job, targets) -> {
          yaml.append("  - job_name: '").append(job).append("'\n");
          yaml.append("    static_configs:\n");
          yaml.append("      - targets: [");
          yaml.append(String.join(", ", targets.stream().map(t -> "'" + t + "'").toList()));
          yaml.append("]\n");
        });
    return yaml.toString();
  }

  private static PrometheusServer launch(Path dir, int port) {
    Path log = dir.resolve("prometheus.log");
    Process process;
    try {
      process =
          new ProcessBuilder(
                  "bash",
                  "-c",
                  GUARD,
                  "prometheus-guard",
                  Long.toString(ProcessHandle.current().pid()),
                  BINARY,
                  "--config.file=" + dir.resolve("prometheus.yml"),
                  "--storage.tsdb.path=" + dir.resolve("data"),
                  "--web.listen-address=127.0.0.1:" + port,
                  "--log.level=warn")
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + BINARY, e);
    }
    HttpClient http = HttpClient.newHttpClient();
    URI ready = URI.create("http://127.0.0.1:" + port + "/-/ready");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("prometheus exited: " + readQuietly(log));
      }
      try {
        HttpResponse<String> response =
            http.send(
                HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          return new PrometheusServer(process, dir, port);
        }
      } catch (IOException e) {
        // Not listening yet.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      sleep(200);
    }
    kill(process);
    throw new IllegalStateException("prometheus not ready in 60 s: " + readQuietly(log));
  }

  /** The base URL, e.g. {@code http://127.0.0.1:41234/}. */
  public URI url() {
    return URI.create("http://127.0.0.1:" + port + "/");
  }

  public int port() {
    return port;
  }

  /** The generated configuration and the log are here, while it runs. */
  public Path directory() {
    return dir;
  }

  /**
   * Evaluates the PromQL expression now and returns its instant vector (a scalar comes back as one
   * sample without labels). Throws when Prometheus refuses the query.
   */
  public List<Sample> query(String promql) {
    URI uri =
        url().resolve("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    JsonNode body;
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());
      body = JSON.readTree(response.body());
      if (response.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
        throw new IllegalStateException(
            "query " + promql + " failed (" + response.statusCode() + "): " + response.body());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    JsonNode data = body.path("data");
    List<Sample> samples = new ArrayList<>();
    switch (data.path("resultType").asText()) {
      case "vector" -> {
        for (JsonNode element : data.path("result")) {
          Map<String, String> labels = new LinkedHashMap<>();
          element
              .path("metric")
              .fields()
              .forEachRemaining(f -> labels.put(f.getKey(), f.getValue().asText()));
          samples.add(new Sample(Map.copyOf(labels), value(element.path("value"))));
        }
      }
      case "scalar" -> samples.add(new Sample(Map.of(), value(data.path("result"))));
      default ->
          throw new IllegalStateException(
              "query " + promql + " gave a " + data.path("resultType").asText() + ", not a vector");
    }
    return samples;
  }

  // [timestamp, "value"]; the value is a string so that NaN and +Inf survive JSON.
  private static double value(JsonNode pair) {
    return switch (pair.get(1).asText()) {
      case "NaN" -> Double.NaN;
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(pair.get(1).asText());
    };
  }

  /**
   * Queries every 500 ms until the result satisfies the predicate, and returns that result; throws
   * after the timeout, naming the last result.
   */
  public List<Sample> waitFor(String promql, Predicate<List<Sample>> until, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Sample> last;
    while (true) {
      last = query(promql);
      if (until.test(last)) {
        return last;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "after " + timeout.toSeconds() + " s, " + promql + " is still " + last);
      }
      sleep(500);
    }
  }

  /** Stops Prometheus and deletes its storage. */
  public synchronized void stop() {
    kill(process);
    deleteTree(dir);
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // Already shutting down: the hook is what called us.
    }
  }

  @Override
  public void close() {
    stop();
  }

  private static void kill(Process process) {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String readQuietly(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // A temporary directory left behind is harmless.
    }
  }
}
