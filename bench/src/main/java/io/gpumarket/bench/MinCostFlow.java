package io.gpumarket.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Min-cost max-flow by successive shortest paths (Dijkstra with potentials), integer capacities and
 * costs. Small and exact; enough for a few hundred thousand arcs.
 */
final class MinCostFlow {
  private final int n;
  private final List<List<Integer>> out;
  private long[] cap = new long[16];
  private long[] cost = new long[16];
  private int[] to = new int[16];
  private int m;

  MinCostFlow(int nodes) {
    n = nodes;
    out = new ArrayList<>(nodes);
    for (int i = 0; i < nodes; i++) {
      out.add(new ArrayList<>());
    }
  }

  void arc(int from, int toNode, long capacity, long unitCost) {
    ensure(m + 2);
    to[m] = toNode;
    cap[m] = capacity;
    cost[m] = unitCost;
    out.get(from).add(m);
    to[m + 1] = from;
    cap[m + 1] = 0;
    cost[m + 1] = -unitCost;
    out.get(toNode).add(m + 1);
    m += 2;
  }

  private void ensure(int size) {
    if (size > to.length) {
      int s = Math.max(size, to.length * 2);
      to = Arrays.copyOf(to, s);
      cap = Arrays.copyOf(cap, s);
      cost = Arrays.copyOf(cost, s);
    }
  }

  /**
   * Flow and cost of a min-cost max-flow from s to t; costs must be non-negative. Primal-dual: a
   * Dijkstra on reduced costs sets the potentials, then a blocking flow (Dinic) saturates every
   * shortest path at once, so there are as many Dijkstras as distinct path costs, not paths.
   */
  long[] solve(int s, int t) {
    int[][] adj = new int[n][];
    for (int i = 0; i < n; i++) {
      adj[i] = out.get(i).stream().mapToInt(Integer::intValue).toArray();
    }
    long[] potential = new long[n];
    long[] dist = new long[n];
    int[] level = new int[n];
    int[] next = new int[n];
    int[] queue = new int[n];
    long flow = 0;
    long total = 0;
    Heap heap = new Heap(n);
    while (true) {
      Arrays.fill(dist, Long.MAX_VALUE);
      dist[s] = 0;
      heap.push(s, 0);
      while (!heap.isEmpty()) {
        long d = heap.topKey();
        int u = heap.pop();
        if (d > dist[u]) {
          continue;
        }
        for (int e : adj[u]) {
          if (cap[e] <= 0) {
            continue;
          }
          int v = to[e];
          long nd = d + cost[e] + potential[u] - potential[v];
          if (nd < dist[v]) {
            dist[v] = nd;
            heap.push(v, nd);
          }
        }
      }
      if (dist[t] == Long.MAX_VALUE) {
        return new long[] {flow, total};
      }
      for (int i = 0; i < n; i++) {
        if (dist[i] != Long.MAX_VALUE) {
          potential[i] += dist[i];
        }
      }
      // Blocking flows on the arcs of zero reduced cost.
      while (true) {
        Arrays.fill(level, -1);
        level[s] = 0;
        int head = 0;
        int tail = 0;
        queue[tail++] = s;
        while (head < tail) {
          int u = queue[head++];
          for (int e : adj[u]) {
            int v = to[e];
            if (cap[e] > 0 && level[v] < 0 && cost[e] + potential[u] - potential[v] == 0) {
              level[v] = level[u] + 1;
              queue[tail++] = v;
            }
          }
        }
        if (level[t] < 0) {
          break;
        }
        Arrays.fill(next, 0);
        long pushed;
        while ((pushed = push(adj, level, next, potential, s, t, Long.MAX_VALUE)) > 0) {
          flow += pushed;
          total += pushed * (potential[t] - potential[s]);
        }
      }
    }
  }

  private long push(
      int[][] adj, int[] level, int[] next, long[] potential, int u, int t, long limit) {
    if (u == t) {
      return limit;
    }
    for (; next[u] < adj[u].length; next[u]++) {
      int e = adj[u][next[u]];
      int v = to[e];
      if (cap[e] > 0 && level[v] == level[u] + 1 && cost[e] + potential[u] - potential[v] == 0) {
        long got = push(adj, level, next, potential, v, t, Math.min(limit, cap[e]));
        if (got > 0) {
          cap[e] -= got;
          cap[e ^ 1] += got;
          return got;
        }
      }
    }
    return 0;
  }

  /** A binary heap of (key, vertex) on primitive arrays, with lazy deletion. */
  private static final class Heap {
    private long[] keys;
    private int[] values;
    private int size;

    Heap(int capacity) {
      keys = new long[Math.max(16, capacity)];
      values = new int[keys.length];
    }

    boolean isEmpty() {
      return size == 0;
    }

    long topKey() {
      return keys[0];
    }

    void push(int value, long key) {
      if (size == keys.length) {
        keys = Arrays.copyOf(keys, size * 2);
        values = Arrays.copyOf(values, size * 2);
      }
      int i = size++;
      while (i > 0) {
        int parent = (i - 1) / 2;
        if (keys[parent] <= key) {
          break;
        }
        keys[i] = keys[parent];
        values[i] = values[parent];
        i = parent;
      }
      keys[i] = key;
      values[i] = value;
    }

    int pop() {
      int top = values[0];
      size--;
      long key = keys[size];
      int value = values[size];
      int i = 0;
      while (true) {
        int child = 2 * i + 1;
        if (child >= size) {
          break;
        }
        if (child + 1 < size && keys[child + 1] < keys[child]) {
          child++;
        }
        if (keys[child] >= key) {
          break;
        }
        keys[i] = keys[child];
        values[i] = values[child];
        i = child;
      }
      keys[i] = key;
      values[i] = value;
      return top;
    }
  }
}
