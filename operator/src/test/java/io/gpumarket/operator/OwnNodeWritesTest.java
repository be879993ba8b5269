package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpumarket.api.v1alpha1.GpuNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A bind sees this process's own ledger writes ahead of the watch, in the cache's order. */
class OwnNodeWritesTest {
  private final Map<String, GpuNode> cache = new HashMap<>();
  private final OwnNodeWrites own = new OwnNodeWrites();

  private GpuNode cached(String name, String version) {
    GpuNode node = node(name, version);
    cache.put(name, node);
    return node;
  }

  private static GpuNode node(String name, String version) {
    GpuNode node = new GpuNode();
    node.getMetadata().setName(name);
    node.getMetadata().setResourceVersion(version);
    return node;
  }

  @Test
  void withoutOwnWritesTheListingIsHandedBackAsItIs() {
    List<GpuNode> listed = List.of(cached("a", "1"), cached("b", "2"));
    assertThat(own.overlay(listed, cache::get)).isSameAs(listed);
  }

  @Test
  void aNewerOwnWriteTakesTheListedCopysPlaceAndTheOthersStayAsListed() {
    GpuNode a = cached("a", "1");
    GpuNode b = cached("b", "2");
    GpuNode c = cached("c", "3");
    GpuNode bWritten = node("b", "7");
    own.wrote(bWritten);

    List<GpuNode> seen = own.overlay(List.of(a, b, c), cache::get);

    assertThat(seen).containsExactly(a, bWritten, c);
    assertThat(seen.get(0)).isSameAs(a);
    assertThat(seen.get(2)).isSameAs(c);
  }

  @Test
  void aWriteTheCacheCaughtUpWithIsForgotten() {
    GpuNode a = cached("a", "1");
    own.wrote(node("b", "7"));
    GpuNode b = cached("b", "8");

    assertThat(own.overlay(List.of(a, b), cache::get)).containsExactly(a, b);
    assertThat(own.isEmpty()).isTrue();
  }

  @Test
  void whenTheCacheMovedOnAfterTheListingEveryListedNodeIsComparedByName() {
    GpuNode a = cached("a", "1");
    GpuNode bListed = cached("b", "2");
    GpuNode bWritten = node("b", "7");
    own.wrote(bWritten);
    // The watch delivered an event older than the write, after the listing was taken.
    cached("b", "5");

    assertThat(own.overlay(List.of(a, bListed), cache::get)).containsExactly(a, bWritten);
  }

  @Test
  void aWrittenNodeTheCacheNoLongerHasStaysAsListed() {
    GpuNode a = cached("a", "1");
    GpuNode b = cached("b", "2");
    own.wrote(node("b", "7"));
    cache.remove("b");

    assertThat(own.overlay(List.of(a, b), cache::get)).containsExactly(a, b);
  }

  @Test
  void anOlderWriteDoesNotReplaceANewerOneKept() {
    GpuNode a = cached("a", "1");
    GpuNode newer = node("a", "9");
    own.wrote(newer);
    own.wrote(node("a", "4"));

    assertThat(own.overlay(List.of(a), cache::get)).containsExactly(newer);
  }

  @Test
  void theLatestOfEachWrittenNodeIsFoundAndTheWritesOfDeletedNodesForgotten() {
    cached("a", "1");
    GpuNode aWritten = node("a", "5");
    own.wrote(aWritten);
    own.wrote(node("gone", "6"));

    assertThat(own.latestOfWritten(cache::get)).containsExactly(Map.entry("a", aWritten));
    cache.remove("a");
    assertThat(own.latestOfWritten(cache::get)).isEmpty();
    assertThat(own.isEmpty()).isTrue();
  }
}
