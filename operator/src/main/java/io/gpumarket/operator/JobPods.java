package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorTermBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpumarket.api.v1alpha1.ComputeJob;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

/**
 * Builds the Pod of one replica of a ComputeJob from its template: pinned to the leased node,
 * requesting its GPUs, tolerating the market's taints, labelled with job and lease, owned by the
 * job. Pure: no client.
 */
public final class JobPods {
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  private JobPods() {}

  public static String name(ComputeJob job, int attempt, int replica) {
    return job.getMetadata().getName() + "-a" + attempt + "-r" + replica;
  }

  public static Pod build(ComputeJob job, int attempt, int replica, String nodeName, String lease) {
    var template = JSON.clone(job.getSpec().template);
    ObjectMeta meta = template.getMetadata() == null ? new ObjectMeta() : template.getMetadata();
    meta.setName(name(job, attempt, replica));
    meta.setNamespace(job.getMetadata().getNamespace());
    meta.setGenerateName(null);
    var labels =
        meta.getLabels() == null ? new HashMap<String, String>() : new HashMap<>(meta.getLabels());
    labels.put(Labels.MANAGED_BY, Labels.MANAGER);
    labels.put(Labels.JOB, job.getMetadata().getName());
    labels.put(Labels.LEASE, lease);
    labels.put(Labels.REPLICA, Integer.toString(replica));
    labels.put(Labels.ATTEMPT, Integer.toString(attempt));
    meta.setLabels(labels);
    meta.setOwnerReferences(List.of(owner(job)));

    PodSpec spec = template.getSpec();
    spec.setRestartPolicy("Never");
    spec.setNodeName(null);
    var affinity =
        spec.getAffinity() == null
            ? new io.fabric8.kubernetes.api.model.Affinity()
            : spec.getAffinity();
    affinity.setNodeAffinity(
        new io.fabric8.kubernetes.api.model.NodeAffinityBuilder()
            .withNewRequiredDuringSchedulingIgnoredDuringExecution()
            .withNodeSelectorTerms(
                new NodeSelectorTermBuilder()
                    .withMatchFields(
                        new NodeSelectorRequirementBuilder()
                            .withKey("metadata.name")
                            .withOperator("In")
                            .withValues(nodeName)
                            .build())
                    .build())
            .endRequiredDuringSchedulingIgnoredDuringExecution()
            .build());
    spec.setAffinity(affinity);
    List<Toleration> tolerations =
        spec.getTolerations() == null ? new ArrayList<>() : new ArrayList<>(spec.getTolerations());
    for (String key : List.of(Labels.GPU_TAINT, Labels.GPU_RESOURCE)) {
      if (tolerations.stream().noneMatch(t -> key.equals(t.getKey()))) {
        tolerations.add(
            new TolerationBuilder()
                .withKey(key)
                .withOperator("Exists")
                .withEffect("NoSchedule")
                .build());
      }
    }
    spec.setTolerations(tolerations);

    int perReplica = job.getSpec().gpu.perReplica;
    List<Container> containers = spec.getContainers();
    for (int i = 0; i < containers.size(); i++) {
      Container c = containers.get(i);
      ResourceRequirements resources =
          c.getResources() == null ? new ResourceRequirements() : c.getResources();
      var limits =
          resources.getLimits() == null
              ? new HashMap<String, Quantity>()
              : new HashMap<>(resources.getLimits());
      var requests =
          resources.getRequests() == null
              ? new HashMap<String, Quantity>()
              : new HashMap<>(resources.getRequests());
      // The whole replica's GPUs go to the first container; extended resources need requests =
      // limits.
      if (i == 0) {
        limits.put(Labels.GPU_RESOURCE, new Quantity(Integer.toString(perReplica)));
        requests.put(Labels.GPU_RESOURCE, new Quantity(Integer.toString(perReplica)));
      } else {
        limits.remove(Labels.GPU_RESOURCE);
        requests.remove(Labels.GPU_RESOURCE);
      }
      resources.setLimits(limits);
      resources.setRequests(requests);
      c.setResources(resources);
      List<EnvVar> env = c.getEnv() == null ? new ArrayList<>() : new ArrayList<>(c.getEnv());
      env.add(new EnvVar("GPUMARKET_JOB", job.getMetadata().getName(), null));
      env.add(new EnvVar("GPUMARKET_LEASE", lease, null));
      env.add(new EnvVar("GPUMARKET_REPLICA", Integer.toString(replica), null));
      env.add(new EnvVar("GPUMARKET_REPLICAS", Integer.toString(job.getSpec().replicas), null));
      env.add(new EnvVar("GPUMARKET_ATTEMPT", Integer.toString(attempt), null));
      c.setEnv(env);
    }
    Pod pod = new Pod();
    pod.setMetadata(meta);
    pod.setSpec(spec);
    return pod;
  }

  /** Deletes the pods by name; one already gone is no error. */
  static void delete(KubernetesClient client, List<Pod> pods) {
    for (Pod p : pods) {
      client
          .pods()
          .inNamespace(p.getMetadata().getNamespace())
          .withName(p.getMetadata().getName())
          .delete();
    }
  }

  static OwnerReference owner(ComputeJob job) {
    return new OwnerReferenceBuilder()
        .withApiVersion(job.getApiVersion())
        .withKind(job.getKind())
        .withName(job.getMetadata().getName())
        .withUid(job.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }
}
