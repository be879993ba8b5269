package io.gpumarket.e2e;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Runs an external program to its end and keeps what it wrote. */
public final class Command {

  /** What a finished program left: its exit code and everything it wrote. */
  public record Result(List<String> command, int exitCode, String stdout, String stderr) {
    public boolean ok() {
      return exitCode == 0;
    }

    /** Throws, naming the command and its output, unless it exited 0. Returns this otherwise. */
    public Result orThrow() {
      if (!ok()) {
        throw new IllegalStateException(this.toString());
      }
      return this;
    }

    @Override
    public String toString() {
      return String.join(" ", command)
          + " exited "
          + exitCode
          + (stdout.isBlank() ? "" : "\n--- stdout\n" + stdout.strip())
          + (stderr.isBlank() ? "" : "\n--- stderr\n" + stderr.strip());
    }
  }

  private final List<String> command;
  private Map<String, String> environment = Map.of();
  private Path directory;
  private String stdin;
  private Duration timeout = Duration.ofMinutes(2);
  private Consumer<String> stderrLines;

  private Command(List<String> command) {
    this.command = List.copyOf(command);
  }

  public static Command of(String... command) {
    return new Command(List.of(command));
  }

  public static Command of(List<String> command) {
    return new Command(command);
  }

  /** Variables added to (or replacing those of) this JVM's environment. */
  public Command environment(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
    return this;
  }

  public Command directory(Path directory) {
    this.directory = directory;
    return this;
  }

  public Command stdin(String stdin) {
    this.stdin = stdin;
    return this;
  }

  public Command timeout(Duration timeout) {
    this.timeout = timeout;
    return this;
  }

  /** Also hands each line of stderr to the consumer as it comes (progress of a long command). */
  public Command echoStderr(Consumer<String> stderrLines) {
    this.stderrLines = stderrLines;
    return this;
  }

  /** Runs it; a program still running at the timeout is killed and reported as exit code 124. */
  public Result run() {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(environment);
    if (directory != null) {
      builder.directory(directory.toFile());
    }
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
    }
    // Both streams are drained at once, or a program that fills one pipe blocks forever.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread outPump = pump(process.getInputStream(), out, null);
    Thread errPump = pump(process.getErrorStream(), err, stderrLines);
    try (OutputStream in = process.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      // The program exited without reading its input; its exit code tells the rest.
    }
    int exitCode;
    try {
      if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        exitCode = process.exitValue();
      } else {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor();
        exitCode = 124;
      }
      outPump.join(5_000);
      errPump.join(5_000);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command, e);
    }
    return new Result(
        command,
        exitCode,
        out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  private static Thread pump(InputStream from, ByteArrayOutputStream to, Consumer<String> lines) {
    Thread thread =
        new Thread(
            () -> {
              byte[] buffer = new byte[8192];
              ByteArrayOutputStream line = new ByteArrayOutputStream();
              try (from) {
                int n;
                while ((n = from.read(buffer)) > 0) {
                  synchronized (to) {
                    to.write(buffer, 0, n);
                  }
                  if (lines != null) {
                    for (int i = 0; i < n; i++) {
                      if (buffer[i] == '\n') {
                        lines.accept(line.toString(StandardCharsets.UTF_8));
                        line.reset();
                      } else {
                        line.write(buffer[i]);
                      }
                    }
                  }
                }
                if (lines != null && line.size() > 0) {
                  lines.accept(line.toString(StandardCharsets.UTF_8));
                }
              } catch (IOException e) {
                // The stream closed with the process.
              }
            },
            "pump-" + from.hashCode());
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  /** The arguments as one list, the first ones before the rest. */
  static List<String> concat(List<String> first, String... rest) {
    List<String> all = new ArrayList<>(first);
    all.addAll(List.of(rest));
    return all;
  }
}
