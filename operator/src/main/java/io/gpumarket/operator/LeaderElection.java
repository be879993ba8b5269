package io.gpumarket.operator;

import static io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Leader election, so that two or more replicas can run while only one reconciles. Off unless
 * configured: the Helm chart and {@code manifests/} turn it on; the sandbox and the tests leave it
 * off. Reserved-lease claims and job status are serialized in one process only, so every replica
 * but the leader must stay idle; a replica that loses the lease exits and restarts as a follower.
 */
@Singleton
public class LeaderElection {
  /** The Lease the replicas compete for, in {@code gpumarket.leader-election.namespace}. */
  public static final String DEFAULT_LEASE_NAME = "gpumarket-operator";

  /** Returns the configuration, or null (no bean, so no election) when it is off. */
  @Produces
  @Dependent
  LeaderElectionConfiguration leaderElection(
      @ConfigProperty(name = "gpumarket.leader-election.enabled", defaultValue = "false")
          boolean enabled,
      @ConfigProperty(
              name = "gpumarket.leader-election.lease-name",
              defaultValue = DEFAULT_LEASE_NAME)
          String leaseName,
      @ConfigProperty(name = "gpumarket.leader-election.namespace") Optional<String> namespace,
      // Only a test turns this off: a replica that stopped leading but went on running would
      // reconcile beside the new leader.
      @ConfigProperty(
              name = "gpumarket.leader-election.exit-on-stop-leading",
              defaultValue = "true")
          boolean exitOnStopLeading) {
    if (!enabled) {
      return null;
    }
    var config = aLeaderElectionConfiguration(leaseName);
    namespace.filter(n -> !n.isBlank()).ifPresent(config::withLeaseNamespace);
    return config.withExitOnStopLeading(exitOnStopLeading).build();
  }
}
