package io.gpumarket.operator;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.Tier;
import io.javaoperatorsdk.operator.Operator;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The operator as Quarkus runs it: controllers registered by CDI, metrics served on /metrics. */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = QuarkusOperatorTest.Crds.class)
class QuarkusOperatorTest {
  public static class Crds implements Consumer<KubernetesServer> {
    @Override
    public void accept(KubernetesServer server) {
      new Fleet(server.getClient()).applyCrds();
    }
  }

  @Inject KubernetesClient client;
  @Inject Operator operator;

  @Test
  void reconcilesAJobAndServesTheMarketsMetrics() {
    Fleet fleet = new Fleet(client);
    fleet.namespace("team-q", Map.of("gpumarket.io/tenant", "true"));
    fleet.namespace("prov-q", Map.of());
    fleet.gpuNode("q-1", "prov-q", Tier.DATACENTER, "eu", "l40s", 4);
    fleet.offer("prov-q", "l40s", "prov-q", "l40s", "0.95");
    fleet.create(Fleet.job("team-q", "render", List.of("l40s"), 1, 2, "1.00"));

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(fleet.getJob("team-q", "render").getStatus().phase)
                  .isEqualTo(JobPhase.Scheduled);
              assertThat(fleet.pods("team-q", "render")).hasSize(1);
            });
    // The job's lease is created with the finalizer the Quarkus-configured lease controller uses
    // (it would add a second one, and wait on it, were the names to differ).
    String lease = fleet.getJob("team-q", "render").getStatus().lease;
    assertThat(fleet.getLease("team-q", lease).getMetadata().getFinalizers())
        .containsExactly("gpuleases.gpumarket.io/finalizer");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                given()
                    .get("/metrics")
                    .then()
                    .statusCode(200)
                    .body(
                        containsString(
                            "gpumarket_gpus{model=\"l40s\",tier=\"datacenter\",state=\"leased\",} 2.0"))
                    .body(
                        containsString(
                            "gpumarket_gpus{model=\"l40s\",tier=\"datacenter\",state=\"available\",} 2.0"))
                    .body(
                        containsString(
                            "gpumarket_utilization_ratio{model=\"l40s\",tier=\"datacenter\",} 0.5"))
                    .body(
                        containsString(
                            "gpumarket_jobs{namespace=\"team-q\",phase=\"Scheduled\",} 1.0"))
                    .body(
                        containsString(
                            "gpumarket_offer_price_per_gpu_hour{namespace=\"prov-q\",offer=\"l40s\",model=\"l40s\",currency=\"USD\",} 0.95"))
                    .body(
                        containsString(
                            "gpumarket_offer_available_gpus{namespace=\"prov-q\",offer=\"l40s\",model=\"l40s\",} 2.0"))
                    .body(containsString("gpumarket_schedule_decision_seconds_count 1.0"))
                    .body(containsString("gpumarket_job_wait_seconds_count 1.0"))
                    .body(containsString("gpumarket_node_up{node=\"q-1\",} 1.0")));
  }

  @Test
  void everyControllerIsReconciledByTheFailsafeHourlyNotAtJosdksTenHours() {
    Map<String, Object> failsafes = new java.util.TreeMap<>();
    operator
        .getRegisteredControllers()
        .forEach(
            c ->
                failsafes.put(
                    c.getConfiguration().getName(),
                    c.getConfiguration().maxReconciliationInterval()));
    Object hourly = java.util.Optional.of(Duration.ofHours(Failsafe.HOURS));
    assertThat(failsafes)
        .isEqualTo(
            Map.of(
                "computejob", hourly, "gpulease", hourly, "gpunode", hourly, "gpuoffer", hourly));
  }

  @Test
  void theClientQuarkusBuildsReadsObjectsWithoutManagedFields() {
    var node =
        client
            .getKubernetesSerialization()
            .unmarshal(LeanJsonTest.NODE_FROM_SERVER, io.gpumarket.api.v1alpha1.GpuNode.class);
    assertThat(node.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(node.getSpec().provider).isEqualTo("acme");
    assertThat(LeanJsonTest.readsFieldNamesAfresh(client.getKubernetesSerialization())).isTrue();
    // The copy JOSDK takes before each reconcile goes through the token buffer, not a string.
    assertThat(client.getKubernetesSerialization()).isInstanceOf(LeanJson.Serialization.class);
    assertThat(client.getKubernetesSerialization().clone(node))
        .isNotSameAs(node)
        .extracting(n -> n.getMetadata().getName())
        .isEqualTo("gn-1");
  }
}
