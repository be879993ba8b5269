package io.gpumarket.operator;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

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

  private final Set<String> switches = new HashSet<>();
  private final Map<String, List<String>> values = new HashMap<>();

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
      if (line.switches.contains(o.name()) || line.values.containsKey(o.name())) {
        throw new Refused(o.name() + " given twice");
      }
      int n = o.arity();
      if (n == 0) {
        line.switches.add(o.name());
        continue;
      }
      if (i + n >= args.length
          || List.of(args).subList(i + 1, i + 1 + n).stream().anyMatch(v -> known.containsKey(v))) {
        throw new Refused(o.name() + " takes " + o.values().trim());
      }
      line.values.put(o.name(), List.of(args).subList(i + 1, i + 1 + n));
      i += n;
    }
    return line;
  }

  /** Whether the option was given. */
  public boolean has(String name) {
    return switches.contains(name) || values.containsKey(name);
  }

  /** The option's value, or {@code fallback} when it was not given. */
  public String value(String name, String fallback) {
    List<String> v = values.get(name);
    return v == null ? fallback : v.get(0);
  }

  /** The values of an option that takes several; empty when it was not given. */
  public List<String> values(String name) {
    return values.getOrDefault(name, List.of());
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
    StringBuilder out = new StringBuilder("usage: " + command + " [options]\n");
    int width = 0;
    for (Option o : options) {
      width = Math.max(width, (o.name() + " " + o.values()).trim().length());
    }
    width = Math.max(width, HELP.name().length());
    for (Option o : options) {
      out.append(
          String.format(
              "  %-" + width + "s  %s%n", (o.name() + " " + o.values()).trim(), o.help()));
    }
    out.append(String.format("  %-" + width + "s  %s%n", HELP.name(), HELP.help()));
    return out.toString();
  }
}
