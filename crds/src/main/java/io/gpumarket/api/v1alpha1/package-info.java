/**
 * The gpumarket.io/v1alpha1 API: GpuNode, GpuOffer, GpuLease and ComputeJob.
 *
 * <p>The CRDs under {@code crds/generated/} are generated from these classes; every field carries
 * the description that {@code kubectl explain} shows.
 */
package io.gpumarket.api.v1alpha1;
