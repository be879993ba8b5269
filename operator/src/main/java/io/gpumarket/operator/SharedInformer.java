package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * One informer of a kind that several controllers read and hear of: the event source of the
 * controller that owns it, which also hands each event to the {@link Listener}s of the others.
 *
 * <p>JOSDK gives each controller informers of its own, so GpuNodes were watched, decoded and cached
 * four times and GpuLeases three, and every bind changes a node and a lease. The owner is the
 * controller whose own writes its cache must show at once (JOSDK's recent-write cache: the lease
 * binder's ledger writes, the jobs' lease creations); the others read that cache and hear of its
 * events through their own filters and mappers, as they did from informers of their own.
 *
 * <p>Either may start first. Until the owner's informer has listed, reads find nothing and {@link
 * #ready()} is false; until a listener's controller has started, events are not handed to it (the
 * owner's first listing hands every object on as added, and a controller reconciles all of its
 * resources when it starts).
 */
final class SharedInformer<R extends HasMetadata> {
  private static final Logger LOG = Logger.getLogger(SharedInformer.class);
  private volatile InformerEventSource<R, ?> owner;
  private final List<Listener<R, ?>> listeners = new CopyOnWriteArrayList<>();
  private final Map<String, Function<R, List<String>>> indexers = new HashMap<>();

  /**
   * The owning controller's event source, configured as its own would be; it hands every event on
   * to the listeners after its own filters and mapper have seen it.
   */
  synchronized <P extends HasMetadata> InformerEventSource<R, P> own(
      InformerEventSourceConfiguration<R> configuration, EventSourceContext<P> context) {
    if (owner != null) {
      throw new IllegalStateException("already owned by " + owner.name());
    }
    InformerEventSource<R, P> source =
        new InformerEventSource<>(configuration, context) {
          @Override
          public void onAdd(R added) {
            handle(() -> super.onAdd(added), l -> l.added(added));
          }

          @Override
          public void onUpdate(R before, R now) {
            handle(() -> super.onUpdate(before, now), l -> l.updated(now, before));
          }

          @Override
          public void onDelete(R deleted, boolean unknownState) {
            handle(
                () -> super.onDelete(deleted, unknownState), l -> l.deleted(deleted, unknownState));
          }
        };
    source.addIndexers(indexers);
    owner = source;
    return source;
  }

  /**
   * Lets the owner handle an event, then hands it to every listener: one whose filter or mapper
   * fails, or the owner failing, must not keep it from the others, as it could not when each
   * controller had an informer of its own.
   */
  private void handle(Runnable ownHandling, Consumer<Listener<R, ?>> event) {
    try {
      ownHandling.run();
    } finally {
      for (Listener<R, ?> l : listeners) {
        try {
          event.accept(l);
        } catch (RuntimeException e) {
          LOG.errorf(e, "%s: an event of the shared informer was not handed on", l.name());
        }
      }
    }
  }

  /**
   * Indexes the informer's objects, whichever controller asks first: before the operator starts, as
   * JOSDK requires of every indexer.
   */
  synchronized void addIndexers(Map<String, Function<R, List<String>>> more) {
    indexers.putAll(more);
    if (owner != null) {
      owner.addIndexers(more);
    }
  }

  /**
   * An event source for another controller, which hears of the shared informer's objects through
   * its own filters (null: every event) and mapper.
   */
  <P extends HasMetadata> Listener<R, P> listen(
      String name,
      Predicate<R> onAdd,
      BiPredicate<R, R> onUpdate,
      BiPredicate<R, Boolean> onDelete,
      SecondaryToPrimaryMapper<R> mapper) {
    Listener<R, P> listener = new Listener<>(name, onAdd, onUpdate, onDelete, mapper);
    listeners.add(listener);
    return listener;
  }

  /** Whether the owner's informer has started and listed (or given up waiting for its list). */
  boolean ready() {
    return started() != null;
  }

  /** The owner once its informer has started; null before. */
  private InformerEventSource<R, ?> started() {
    InformerEventSource<R, ?> o = owner;
    return o != null && o.isRunning() ? o : null;
  }

  Optional<R> get(ResourceID id) {
    InformerEventSource<R, ?> o = started();
    return o == null ? Optional.empty() : o.get(id);
  }

  Stream<R> list() {
    InformerEventSource<R, ?> o = started();
    return o == null ? Stream.empty() : o.list();
  }

  List<R> byIndex(String index, String key) {
    InformerEventSource<R, ?> o = started();
    return o == null ? List.of() : o.byIndex(index, key);
  }

  /**
   * A controller's event source fed by a {@link SharedInformer}: the informer's events that pass
   * its filters reach the resources its mapper names.
   */
  static final class Listener<R extends HasMetadata, P extends HasMetadata>
      extends SimpleInboundEventSource<P> {
    private final Predicate<R> onAdd;
    private final BiPredicate<R, R> onUpdate;
    private final BiPredicate<R, Boolean> onDelete;
    private final SecondaryToPrimaryMapper<R> mapper;

    private Listener(
        String name,
        Predicate<R> onAdd,
        BiPredicate<R, R> onUpdate,
        BiPredicate<R, Boolean> onDelete,
        SecondaryToPrimaryMapper<R> mapper) {
      super(name);
      this.onAdd = onAdd;
      this.onUpdate = onUpdate;
      this.onDelete = onDelete;
      this.mapper = mapper;
    }

    void added(R added) {
      if (isRunning() && (onAdd == null || onAdd.test(added))) {
        handOn(added);
      }
    }

    void updated(R now, R before) {
      if (isRunning() && (onUpdate == null || onUpdate.test(now, before))) {
        handOn(now);
      }
    }

    void deleted(R deleted, boolean unknownState) {
      if (isRunning() && (onDelete == null || onDelete.test(deleted, unknownState))) {
        handOn(deleted);
      }
    }

    private void handOn(R resource) {
      mapper.toPrimaryResourceIDs(resource).forEach(this::propagateEvent);
    }
  }
}
