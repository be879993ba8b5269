package io.gpumarket.operator;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A command's options, read against the list of those it knows: an option it does not know, one
 * without its value, or a value of the wrong kind is refused before anything starts, with a message
 * that names it, rather than ignored or failing minutes later with a stack trace.
 */
public final class CommandLine {
  /**
   * One option.
   *
   * @param name as typed, {@code --seed}
   * @param values what follows it, as the usage shows it ({@code N}, {@code A.json B.json}); empty
   *     for a switch
   * @param help one line on what it does
   */
  public record Option(String name, String values, String help) {
    int arity() {
      return values.isBlank() ? 0 : values.trim().split("\\s+").length;
    }
  }

  /** Input the command refuses; its message says why. */
  public static final class Refused extends RuntimeException {
    public Refused(String message) {
      super(message);
    }
  }

  /** Shown in every usage: the one option every command knows. */
  public static final Option HELP = new Option("--help", "", "print this and exit");

  /** The options given, by name, with the values that followed each (none for a switch). */
  private final Map<String, List<String>> given = new HashMap<>();

  private CommandLine() {}

  /**
   * Reads {@code args} against {@code options} ({@link #HELP} is known without being listed).
   *
   * @throws Refused for an unknown option, one given twice, or one without its values
   */
  public static CommandLine parse(String[] args, List<Option> options) {
    Map<String, Option> known = new HashMap<>();
    known.put(HELP.name(), HELP);
    options.forEach(o -> known.put(o.name(), o));
    CommandLine line = new CommandLine();
    for (int i = 0; i < args.length; i++) {
      Option o = known.get(args[i]);
      if (o == null) {
        throw new Refused(
            args[i].startsWith("-")
                ? "unknown option " + args[i]
                : "unexpected argument " + args[i] + " (every value follows its option)");
      }
      if (line.given.containsKey(o.name())) {
        throw new Refused(o.name() + " given twice");
      }
      int n = o.arity();
      List<String> values = List.of(args).subList(i + 1, Math.min(args.length, i + 1 + n));
      if (values.size() < n || values.stream().anyMatch(known::containsKey)) {
        throw new Refused(o.name() + " takes " + o.values().trim());
      }
      line.given.put(o.name(), values);
      i += n;
    }
    return line;
  }

  /** Whether the option was given. */
  public boolean has(String name) {
    return given.containsKey(name);
  }

  /** The option's value, or {@code fallback} when it was not given. */
  public String value(String name, String fallback) {
    List<String> v = given.get(name);
    return v == null || v.isEmpty() ? fallback : v.get(0);
  }

  /** The values of an option that takes several; empty when it was not given. */
  public List<String> values(String name) {
    return given.getOrDefault(name, List.of());
  }

  /** The option's value as a whole number, or {@code fallback}. */
  public long number(String name, long fallback) {
    return read(name, fallback, Long::valueOf, n -> true, "a whole number");
  }

  /** The option's value as a whole number of at least {@code min}, or {@code fallback}. */
  public long number(String name, long fallback, long min) {
    return read(name, fallback, Long::valueOf, n -> n >= min, "a whole number of at least " + min);
  }

  /** The option's value as a number of at least {@code min}, or {@code fallback}. */
  public double decimal(String name, double fallback, double min) {
    return read(name, fallback, Double::valueOf, n -> n >= min, "a number of at least " + min);
  }

  /** The option's value as an ISO-8601 duration above zero ({@code PT1M}), or {@code fallback}. */
  public Duration duration(String name, Duration fallback) {
    return read(
        name,
        fallback,
        Duration::parse,
        d -> !d.isNegative() && !d.isZero(),
        "a duration above zero such as PT1M or PT30S");
  }

  /**
   * The option's value as {@code parse} reads it, or {@code fallback} when it was not given.
   *
   * @throws Refused when {@code parse} cannot read it or {@code valid} refuses what it read, saying
   *     the option takes {@code what}
   */
  private <T> T read(
      String name,
      T fallback,
      java.util.function.Function<String, T> parse,
      java.util.function.Predicate<T> valid,
      String what) {
    String v = value(name, null);
    if (v == null) {
      return fallback;
    }
    try {
      T read = parse.apply(v);
      if (valid.test(read)) {
        return read;
      }
    } catch (NumberFormatException | DateTimeParseException e) {
      // refused below, with the option's name
    }
    throw new Refused(name + " takes " + what + ", not " + v);
  }

  /** The usage of {@code command}: a line per option, {@link #HELP} last. */
  public static String usage(String command, List<Option> options) {
    List<Option> all = new java.util.ArrayList<>(options);
    all.add(HELP);
    int width = all.stream().mapToInt(o -> typed(o).length()).max().orElse(0);
    StringBuilder out = new StringBuilder("usage: " + command + " [options]\n");
    all.forEach(o -> out.append(String.format("  %-" + width + "s  %s%n", typed(o), o.help())));
    return out.toString();
  }

  /** An option as typed, with its values as the usage names them. */
  private static String typed(Option o) {
    return (o.name() + " " + o.values()).trim();
  }

  /**
   * Tells why the input was refused, with the usage, on standard error, and ends the JVM with
   * status 2: what every command does with a {@link Refused}.
   */
  public static void exitRefused(String command, List<Option> options, Refused refused) {
    System.err.println(command + ": " + refused.getMessage());
    System.err.print(usage(command, options));
    System.exit(2);
  }
}
