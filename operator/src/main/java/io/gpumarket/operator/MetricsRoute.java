package io.gpumarket.operator;

import io.prometheus.client.exporter.common.TextFormat;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.StringWriter;

/** Serves the market's metrics at {@code /metrics} in the Prometheus text format. */
@ApplicationScoped
public class MetricsRoute {
  void install(@Observes Router router, MarketMetrics metrics) {
    router
        .get("/metrics")
        .blockingHandler(
            ctx -> {
              StringWriter out = new StringWriter();
              try {
                TextFormat.write004(out, metrics.registry().metricFamilySamples());
              } catch (java.io.IOException e) {
                ctx.fail(e);
                return;
              }
              ctx.response()
                  .putHeader("Content-Type", TextFormat.CONTENT_TYPE_004)
                  .end(out.toString());
            });
  }
}
