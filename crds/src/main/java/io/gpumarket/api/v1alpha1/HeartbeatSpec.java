package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.graceSeconds > self.intervalSeconds",
    message = "heartbeat.graceSeconds must be longer than heartbeat.intervalSeconds")
public class HeartbeatSpec {
  @JsonPropertyDescription("Seconds between two heartbeats of the node agent.")
  @Default("10")
  @Min(1)
  @Max(3600)
  public int intervalSeconds = 10;

  @JsonPropertyDescription("Seconds without a heartbeat after which the node is not Ready.")
  @Default("40")
  @Min(2)
  @Max(86400)
  public int graceSeconds = 40;
}
