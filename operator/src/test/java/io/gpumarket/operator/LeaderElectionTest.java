package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.Tier;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** With leader election on, the operator takes the leader Lease before it reconciles anything. */
@QuarkusTest
@TestProfile(LeaderElectionTest.On.class)
@WithKubernetesTestServer(crud = true, setup = LeaderElectionTest.Setup.class)
class LeaderElectionTest {
  public static class On implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "gpumarket.leader-election.enabled", "true",
          "gpumarket.leader-election.namespace", "gpumarket-system",
          // Stopping the test application ends its leadership; exiting then would kill the
          // test JVM.
          "gpumarket.leader-election.exit-on-stop-leading", "false");
    }
  }

  /**
   * The CRDs, and an answer to the access review that the leader elector sends before it starts:
   * the mock server cannot evaluate one, so it is told the operator may use Leases, as the RBAC in
   * {@code manifests/} allows.
   */
  public static class Setup implements Consumer<KubernetesServer> {
    @Override
    public void accept(KubernetesServer server) {
      new Fleet(server.getClient()).applyCrds();
      var review =
          new SelfSubjectRulesReviewBuilder()
              .withNewMetadata()
              .endMetadata()
              .withNewStatus()
              .addNewResourceRule()
              .withApiGroups("coordination.k8s.io")
              .withResources("leases")
              .withVerbs("get", "create", "update")
              .endResourceRule()
              .withIncomplete(false)
              .endStatus()
              .build();
      server
          .expect()
          .post()
          .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
          .andReturn(201, review)
          .always();
    }
  }

  @Inject KubernetesClient client;

  @Test
  void holdsTheLeaderLeaseAndReconciles() {
    Fleet fleet = new Fleet(client);
    fleet.namespace("gpumarket-system", Map.of());
    fleet.namespace("team-l", Map.of("gpumarket.io/tenant", "true"));
    fleet.namespace("prov-l", Map.of());
    fleet.gpuNode("l-1", "prov-l", Tier.DATACENTER, "eu", "l40s", 2);
    fleet.offer("prov-l", "l40s", "prov-l", "l40s", "0.95");
    fleet.create(Fleet.job("team-l", "train", List.of("l40s"), 1, 1, "1.00"));

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              Lease lease =
                  client
                      .leases()
                      .inNamespace("gpumarket-system")
                      .withName(LeaderElection.DEFAULT_LEASE_NAME)
                      .get();
              assertThat(lease).isNotNull();
              assertThat(lease.getSpec().getHolderIdentity()).isNotBlank();
              assertThat(fleet.getJob("team-l", "train").getStatus().phase)
                  .isEqualTo(JobPhase.Scheduled);
            });
  }
}
