package io.gpumarket.operator.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;

/**
 * fabric8's CRUD mock API server, made to check the resourceVersion of a status update as a real
 * API server does: the stock mock copies the stored resourceVersion over the request's on {@code
 * PUT .../status}, so a stale write silently wins. The market's ledger relies on that check, so the
 * sandbox and the tests use this dispatcher. Writes are serialized so that the check and the write
 * cannot be split by another request.
 */
public class StrictCrudDispatcher extends KubernetesCrudDispatcher {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public synchronized MockResponse handleUpdate(RecordedRequest request) {
    String path = request.getPath();
    int query = path.indexOf('?');
    String bare = query < 0 ? path : path.substring(0, query);
    if (bare.endsWith("/status")) {
      try {
        JsonNode body = JSON.readTree(request.getBody().getBytes());
        String wanted = body.path("metadata").path("resourceVersion").asText("");
        MockResponse current =
            super.handleGet(bare.substring(0, bare.length() - "/status".length()));
        if (!wanted.isEmpty() && current.code() == 200) {
          String stored =
              JSON.readTree(current.getBody().readUtf8())
                  .path("metadata")
                  .path("resourceVersion")
                  .asText("");
          if (!wanted.equals(stored)) {
            return new MockResponse()
                .setResponseCode(409)
                .setBody(
                    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Conflict\",\"code\":409,"
                        + "\"message\":\"the object has been modified; please apply your changes to the latest version and try again\"}");
          }
        }
      } catch (IOException e) {
        return new MockResponse().setResponseCode(400);
      }
    }
    return super.handleUpdate(request);
  }

  @Override
  public synchronized MockResponse handleCreate(RecordedRequest request) {
    return super.handleCreate(request);
  }

  @Override
  public synchronized MockResponse handlePatch(RecordedRequest request) {
    return super.handlePatch(request);
  }

  @Override
  public synchronized MockResponse handleDelete(String path) {
    return super.handleDelete(path);
  }

  @Override
  public synchronized MockResponse handleGet(String path) {
    return super.handleGet(path);
  }
}
