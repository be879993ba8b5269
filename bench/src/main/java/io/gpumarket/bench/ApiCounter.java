package io.gpumarket.bench;

import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the requests of one client by verb and resource, and the responses by status, from the
 * client's side: it works the same against the mock and a real API server. Keeps the last few
 * writes of each kind so that the API server's raw rate can be measured on the same writes: the
 * last, because the first a run makes come before its counted wave, and a create replayed from one
 * names an owner deleted since (a warm-up job), which the garbage collector then deletes with it,
 * work the wave did not have.
 */
final class ApiCounter implements Interceptor {
  /** A write as it was sent. */
  record Sample(String method, String uri, String contentType, String body) {}

  final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
  final Map<Integer, LongAdder> codes = new ConcurrentHashMap<>();

  /** Requests answered 409 Conflict, by method and resource. */
  final Map<String, LongAdder> conflicts = new ConcurrentHashMap<>();

  /** The last {@link #SAMPLES_KEPT} successful writes of each kind, oldest first. */
  final Map<String, List<Sample>> samples = new ConcurrentHashMap<>();

  /** Enough for the ceiling's creates to go to as many tenants' namespaces as the wave's did. */
  static final int SAMPLES_KEPT = 16;

  final LongAdder writes = new LongAdder();

  @Override
  public void after(
      HttpRequest request,
      HttpResponse<?> response,
      AsyncBody.Consumer<List<ByteBuffer>> consumer) {
    String method = request.method();
    String key = method + " " + resource(request.uri().getRawPath());
    if (request.uri().getRawQuery() != null && request.uri().getRawQuery().contains("watch=")) {
      key = "WATCH " + resource(request.uri().getRawPath());
    }
    requests.computeIfAbsent(key, k -> new LongAdder()).increment();
    codes.computeIfAbsent(response.code(), k -> new LongAdder()).increment();
    if (response.code() == 409) {
      conflicts.computeIfAbsent(key, k -> new LongAdder()).increment();
    }
    if (isWrite(method)) {
      writes.increment();
      if (response.isSuccessful()) {
        List<Sample> list = samples.computeIfAbsent(key, k -> new ArrayList<>());
        synchronized (list) {
          if (list.size() == SAMPLES_KEPT) {
            list.remove(0);
          }
          list.add(
              new Sample(
                  method,
                  request.uri().toString(),
                  request.header("Content-Type"),
                  request.bodyString()));
        }
      }
    }
  }

  static boolean isWrite(String method) {
    return method.equals("POST")
        || method.equals("PUT")
        || method.equals("PATCH")
        || method.equals("DELETE");
  }

  /** {@code pods}, {@code gpunodes/status}, ...: the resource and subresource of a path. */
  static String resource(String path) {
    String[] s = path.replaceAll("^/+", "").split("/");
    int i = s.length > 0 && s[0].equals("api") ? 2 : 3;
    if (s.length > i + 2 && s[i].equals("namespaces")) {
      i += 2;
    }
    if (i >= s.length) {
      return s[s.length - 1];
    }
    String plural = s[i];
    return s.length > i + 2 ? plural + "/" + s[i + 2] : plural;
  }

  Map<String, Long> snapshot() {
    Map<String, Long> m = new TreeMap<>();
    requests.forEach((k, v) -> m.put(k, v.sum()));
    return m;
  }

  Map<String, Long> codes() {
    Map<String, Long> m = new TreeMap<>();
    codes.forEach((k, v) -> m.put(String.valueOf(k), v.sum()));
    return m;
  }

  Map<String, Long> conflicts() {
    Map<String, Long> m = new TreeMap<>();
    conflicts.forEach((k, v) -> m.put(k, v.sum()));
    return m;
  }

  static Map<String, Long> minus(Map<String, Long> after, Map<String, Long> before) {
    Map<String, Long> m = new TreeMap<>();
    after.forEach(
        (k, v) -> {
          long d = v - before.getOrDefault(k, 0L);
          if (d != 0) {
            m.put(k, d);
          }
        });
    return m;
  }
}
