package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import java.util.Objects;

/** A reference to a namespaced object. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ObjectRef {
  @JsonPropertyDescription("Namespace of the object.")
  @Required
  @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
  public String namespace;

  @JsonPropertyDescription("Name of the object.")
  @Required
  @Pattern("^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")
  public String name;

  public ObjectRef() {}

  public ObjectRef(String namespace, String name) {
    this.namespace = namespace;
    this.name = name;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ObjectRef r
        && Objects.equals(namespace, r.namespace)
        && Objects.equals(name, r.name);
  }

  @Override
  public int hashCode() {
    return Objects.hash(namespace, name);
  }

  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
