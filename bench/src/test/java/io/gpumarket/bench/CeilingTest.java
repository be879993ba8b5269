package io.gpumarket.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The replay changes a quota's limits as the operator's write did, whatever the patch's form. */
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
}
