package io.gpumarket.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The replay changes what the operator's write changed (a quota's limits, whatever the patch's
 * form), and sends a patch as a patch of that change alone.
 */
class CeilingTest {
  @Test
  void theLimitsAQuotaWriteSetAreReadFromAMergePatchAJsonPatchOrAWholeObject() {
    assertThat(Ceiling.hardLimits("{\"spec\":{\"hard\":{\"requests.nvidia.com/gpu\":\"12\"}}}"))
        .containsExactly("requests.nvidia.com/gpu");
    assertThat(
            Ceiling.hardLimits(
                "[{\"op\":\"add\",\"path\":\"/spec/hard/requests.nvidia.com~1gpu\",\"value\":\"4\"}]"))
        .containsExactly("requests.nvidia.com/gpu");
    assertThat(
            Ceiling.hardLimits(
                "{\"kind\":\"ResourceQuota\",\"metadata\":{\"name\":\"q\"},"
                    + "\"spec\":{\"hard\":{\"pods\":\"10\",\"requests.cpu\":\"8\"}}}"))
        .containsExactly("pods", "requests.cpu");
  }

  @Test
  void aWriteThatSetsNoLimitIsReplayedAsBefore() {
    assertThat(Ceiling.hardLimits("{\"metadata\":{\"finalizers\":[\"f\"]}}")).isEmpty();
    assertThat(
            Ceiling.hardLimits(
                "[{\"op\":\"add\",\"path\":\"/metadata/finalizers\",\"value\":[\"f\"]}]"))
        .isEmpty();
    assertThat(Ceiling.hardLimits("")).isEmpty();
    assertThat(Ceiling.hardLimits(null)).isEmpty();
  }

  @Test
  void aPatchIsReplayedAsAMergePatchOfWhatTheReplayChangedAlone() throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode quota =
        (ObjectNode)
            json.readTree(
                "{\"metadata\":{\"name\":\"q\",\"generation\":1},"
                    + "\"spec\":{\"hard\":{\"requests.nvidia.com/gpu\":\"12\",\"pods\":\"9\"}},"
                    + "\"status\":{\"observedGeneration\":1,\"used\":{\"pods\":\"1\"}}}");
    // What goes on the wire: the patch, or the change an update applies.
    assertThat(Ceiling.change(quota, false, List.of("requests.nvidia.com/gpu"), 1))
        .hasToString("{\"spec\":{\"hard\":{\"requests.nvidia.com/gpu\":\"1000001\"}}}");
    assertThat(Ceiling.change(quota, true, List.of(), 0))
        .hasToString("{\"status\":{\"observedGeneration\":2}}");
    assertThat(Ceiling.change(quota, false, List.of(), 3))
        .hasToString("{\"metadata\":{\"annotations\":{\"bench.gpumarket.io/raw\":\"3\"}}}");
  }
}
