package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"stockd/domain"
	"stockd/internal/retry"
	"stockd/ports"
)

var _ ports.PriceSource = (*Source)(nil)

// SourceConfig says what to consume.
type SourceConfig struct {
	Brokers []string
	Topic   string
	Group   string
	MaxPoll int // records per batch at most; 0 is 500,000
	Stocks  domain.Stocks
	// Zone is APP_TIMEZONE: a value without a date is on the date of its
	// record's timestamp there. Nil is UTC.
	Zone     *time.Location
	Logger   *slog.Logger
	Registry prometheus.Registerer
	// TracerProvider makes each poll and each batch's apply a span; nil
	// is the global provider, a no-op unless one is set.
	TracerProvider trace.TracerProvider
}

// Source consumes the price topic in a consumer group. Its loop is poll →
// apply → commit → allow rebalance: offsets are committed only after the
// store has the batch, and a rebalance cannot take partitions away between
// the two (BlockRebalanceOnPoll). A crash before the commit redelivers the
// batch, which the merge absorbs (it is idempotent and order-independent).
type Source struct {
	cfg     SourceConfig
	client  *kgo.Client
	log     *slog.Logger
	tracer  trace.Tracer
	invalid prometheus.Counter
	batches prometheus.Counter
	lag     *prometheus.GaugeVec
	stuck   *prometheus.GaugeVec
	down    prometheus.Counter
	stall   stall
}

// stall is what /readyz and /metrics say of a batch that cannot get
// through: its partitions wait (they are not committed) while a
// dead-letter write or the store keeps refusing it.
type stall struct {
	mu         sync.Mutex
	since      time.Time // zero while records flow
	partitions []string  // "topic/partition" of the batch held
	err        string
}

func (st *stall) set(partitions []string, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.since.IsZero() {
		st.since = time.Now()
	}
	st.partitions, st.err = partitions, reason(err)
}

func (st *stall) clear() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.since, st.partitions, st.err = time.Time{}, nil, ""
}

// seconds is how long the batch in hand has been refused; 0 while
// records flow.
func (st *stall) seconds() float64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.since.IsZero() {
		return 0
	}
	return time.Since(st.since).Seconds()
}

// check is nil while records flow, else says which partitions wait.
func (st *stall) check() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.since.IsZero() {
		return nil
	}
	return fmt.Errorf("%w: kafka: partitions %v stuck for %s: %s", ports.ErrUnavailable,
		st.partitions, time.Since(st.since).Truncate(time.Millisecond), st.err)
}

// NewSource builds the consumer. It does not wait for the brokers: the
// client connects, and reconnects, on its own.
func NewSource(cfg SourceConfig) (*Source, error) {
	if cfg.MaxPoll <= 0 {
		cfg.MaxPoll = 500000
	}
	s := &Source{
		cfg: cfg, log: cfg.Logger,
		invalid: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stockd_kafka_invalid_records_total",
			Help: "Records that were not valid ticks, sent to the dead-letter topic.",
		}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stockd_kafka_batches_committed_total",
			Help: "Batches applied to the price store and committed.",
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stockd_kafka_consumer_lag_records",
			Help: "Records behind the high watermark, by partition held, as of the last poll.",
		}, []string{"topic", "partition"}),
		stuck: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stockd_kafka_stuck_records",
			Help: "Records of a partition held back because a dead-letter write or the price store keeps refusing their batch; 0 while the partition flows.",
		}, []string{"topic", "partition"}),
		down: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stockd_kafka_unavailable_total",
			Help: "Tries to reach the brokers (a ping or a fetch) that failed.",
		}),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	s.tracer = tp.Tracer(tracerName)
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), // a new group reads from the start
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchMaxWait(500*time.Millisecond),
		// A consumer that is behind gets batches of up to MaxPoll records
		// rather than franz-go's 1 MiB a partition (13,000 ticks): a batch
		// of a market (10,000 stocks) writes nearly every stock whatever
		// its size, so fewer, larger batches are what catches up (at most
		// 16 MiB a partition buffered, about 200,000 ticks). A consumer
		// that keeps up gets what came since its last batch, as before.
		kgo.FetchMaxPartitionBytes(16<<20),
		kgo.RecordDeliveryTimeout(30*time.Second), // dead letters
		// A partition's lag series exists, at zero, from the moment it is
		// held, so that a rate or an alert sees it from the first scrape,
		// and goes when another consumer takes the partition.
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, held map[string][]int32) { s.eachLag(held, true) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, gone map[string][]int32) { s.eachLag(gone, false) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, gone map[string][]int32) { s.eachLag(gone, false) }),
	)
	if err != nil {
		return nil, fmt.Errorf("KAFKA_BROKERS: %w", err)
	}
	s.client = cl
	stuckFor := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "stockd_kafka_stuck_seconds",
		Help: "How long the batch in hand has been refused by a dead-letter write or the price store; 0 while records flow.",
	}, s.stall.seconds)
	if cfg.Registry != nil {
		for _, c := range []prometheus.Collector{s.invalid, s.batches, s.lag, s.stuck, s.down, stuckFor} {
			if err := cfg.Registry.Register(c); err != nil {
				cl.Close()
				return nil, err
			}
		}
	}
	return s, nil
}

func (s *Source) eachLag(partitions map[string][]int32, held bool) {
	for topic, ps := range partitions {
		for _, p := range ps {
			labels := prometheus.Labels{"topic": topic, "partition": strconv.Itoa(int(p))}
			if held {
				s.lag.With(labels).Set(0)
				s.stuck.With(labels).Set(0)
			} else {
				s.lag.Delete(labels)
				s.stuck.Delete(labels)
			}
		}
	}
}

// Close leaves the group and closes the client.
func (s *Source) Close() { s.client.Close() }

// Ping reports whether a broker answers and records flow: a batch that a
// dead-letter write or the store keeps refusing holds its partitions, and
// makes the source not ready until it gets through.
func (s *Source) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx); err != nil {
		return fmt.Errorf("%w: kafka: %v", ports.ErrUnavailable, err)
	}
	return s.stall.check()
}

// Run consumes until ctx is cancelled, then returns nil. A SIGTERM lets
// the batch in hand finish: it is applied and committed, and Run returns.
// If the store or the dead-letter topic is refusing that batch when ctx
// ends, Run returns at once without committing it: nothing is lost, the
// group delivers it again to the next consumer.
func (s *Source) Run(ctx context.Context, apply ports.ApplyBatch) error {
	dlq := s.cfg.Topic + DLQSuffix
	brokers := &brokerState{log: s.log, brokers: s.cfg.Brokers, pace: retry.Outage.BackOff(), failures: s.down}
	for {
		err := s.client.Ping(ctx)
		if err == nil {
			brokers.up()
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		brokers.down(err)
		if !brokers.wait(ctx) {
			return nil
		}
	}
	// A cluster may forbid creating topics; then consume what exists (the
	// dead-letter writes wait for their topic rather than drop a record).
	if err := EnsureTopics(ctx, s.client, s.cfg.Topic, dlq); err != nil {
		s.log.Warn("could not create the topics; consuming what exists", "error", err)
	}
	for {
		_, poll := s.tracer.Start(ctx, "kafka poll", trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(semconv.MessagingSystemKafka, semconv.MessagingDestinationName(s.cfg.Topic)))
		fetches := s.client.PollRecords(ctx, s.cfg.MaxPoll)
		if fetches.IsClientClosed() {
			poll.End()
			return nil
		}
		var fetchErr error
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && fetchErr == nil {
				fetchErr = fmt.Errorf("fetch %s/%d: %w", topic, p, err)
			}
		})
		poll.SetAttributes(semconv.MessagingBatchMessageCount(fetches.NumRecords()))
		if fetchErr != nil {
			poll.RecordError(fetchErr)
			poll.SetStatus(codes.Error, "fetch failed")
		}
		poll.End()
		switch {
		case fetchErr == nil:
			brokers.up()
		case fetches.NumRecords() == 0:
			brokers.down(fetchErr)
			brokers.wait(ctx) // brokers away: retry without spinning
		default:
			brokers.down(fetchErr)
		}
		// The batch is applied and committed even if ctx ends meanwhile
		// (work is not cancelled); only the waits between retries are.
		// The apply's span is the poll's child: one trace per batch.
		work := trace.ContextWithSpan(context.WithoutCancel(ctx), poll)
		if err := s.handle(ctx, work, fetches, dlq, apply); err != nil {
			s.client.AllowRebalance()
			return err
		}
		s.client.AllowRebalance()
		if ctx.Err() != nil {
			return nil
		}
	}
}

// handle applies one poll's records and commits them. When ctx ends while
// a retry waits, it returns nil without committing.
func (s *Source) handle(ctx, work context.Context, fetches kgo.Fetches, dlq string, apply ports.ApplyBatch) (err error) {
	batch := domain.NewTickBatch()
	var dead []*kgo.Record
	records := 0
	perPartition := map[[2]string]int{}
	days := dayCache{zone: s.cfg.Zone}
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		n := len(p.Records)
		if n == 0 {
			return
		}
		partition := strconv.Itoa(int(p.Partition))
		s.lag.WithLabelValues(p.Topic, partition).Set(float64(p.HighWatermark - p.Records[n-1].Offset - 1))
		perPartition[[2]string{p.Topic, partition}] += n
		for _, r := range p.Records {
			records++
			t, err := DecodeRecord(r.Key, r.Value, days.of(r.Timestamp), s.cfg.Stocks)
			if err != nil {
				why := reason(err)
				s.invalid.Inc()
				s.log.Warn("invalid record sent to the dead-letter topic", "topic", r.Topic,
					"partition", r.Partition, "offset", r.Offset, "bytes", len(r.Key)+len(r.Value), "error", why)
				dead = append(dead, deadLetter(r, dlq, why))
				continue
			}
			batch.Add(t)
		}
	})
	if records == 0 {
		return nil
	}
	work, span := s.tracer.Start(work, "kafka apply", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(semconv.MessagingSystemKafka, semconv.MessagingDestinationName(s.cfg.Topic),
			semconv.MessagingBatchMessageCount(records), attribute.Int("stockd.ticks", batch.Ticks()),
			attribute.Int("stockd.dead_letters", len(dead))))
	committed := false
	defer func() {
		// Not committed: ctx ended while the store or the dead-letter
		// topic refused the batch, or the commit failed.
		span.SetAttributes(attribute.Bool("stockd.committed", committed))
		if !committed {
			span.SetStatus(codes.Error, "batch not committed")
		}
		span.End()
	}()
	// A failed try holds the batch's partitions: say so until it passes.
	held := make([]string, 0, len(perPartition))
	for tp := range perPartition {
		held = append(held, tp[0]+"/"+tp[1])
	}
	slices.Sort(held)
	stuck := func(err error) {
		s.stall.set(held, err)
		for tp, n := range perPartition {
			s.stuck.WithLabelValues(tp[0], tp[1]).Set(float64(n))
		}
	}
	defer func() {
		s.stall.clear()
		for tp := range perPartition {
			s.stuck.WithLabelValues(tp[0], tp[1]).Set(0)
		}
	}()
	// Dead letters first: once committed, a record exists only there.
	if len(dead) > 0 {
		if err := s.retry(ctx, "dead-letter topic unavailable; retrying", func() error {
			var err error
			dead, err = s.sendDeadLetters(work, dead)
			return err
		}, stuck); err != nil {
			return nil // not committed: redelivered after restart
		}
	}
	if err := s.retry(ctx, "price store refused a batch; retrying", func() error {
		return apply(work, batch)
	}, stuck, "ticks", batch.Ticks()); err != nil {
		return nil // not committed: redelivered after restart
	}
	commitCtx, cancel := context.WithTimeout(work, 30*time.Second)
	defer cancel()
	if err := s.client.CommitUncommittedOffsets(commitCtx); err != nil {
		// The batch is applied; redelivering it is harmless.
		s.log.Warn("offset commit failed; the batch will be redelivered", "error", err)
		span.RecordError(err)
		return nil
	}
	committed = true
	s.batches.Inc()
	return nil
}

// sendDeadLetters writes dead and returns those still to write, with the
// first error. A record too large for the topic is cut down (see
// cutDown) and sent again at once; a cut one that is still too large
// waits like any refused write.
func (s *Source) sendDeadLetters(ctx context.Context, dead []*kgo.Record) ([]*kgo.Record, error) {
	for len(dead) > 0 {
		var again []*kgo.Record
		var failed error
		for _, res := range s.client.ProduceSync(ctx, dead...) {
			if res.Err == nil {
				continue
			}
			if tooLarge(res.Err) {
				if cut, ok := cutDown(res.Record); ok {
					s.log.Warn("dead letter too large for its topic; sending it cut down",
						"bytes", len(res.Record.Key)+len(res.Record.Value), "error", res.Err)
					again = append(again, cut)
					continue
				}
			}
			again = append(again, res.Record)
			if failed == nil {
				failed = res.Err
			}
		}
		dead = again
		if failed != nil {
			return dead, failed
		}
	}
	return nil, nil
}

// retry runs op with the outage policy until it succeeds or ctx ends,
// logging each failure with msg and attrs and telling failed of it; the
// error is ctx's.
func (s *Source) retry(ctx context.Context, msg string, op func() error, failed func(error), attrs ...any) error {
	attempt := 0
	_, err := retry.Do(ctx, retry.Outage, func() (struct{}, error) { return struct{}{}, op() },
		func(err error, wait time.Duration) {
			attempt++
			failed(err)
			s.log.Warn(msg, append(attrs, "attempt", attempt, "error", reason(err), "retry_in_ms", ms(wait))...)
		})
	return err
}

// dayCache is the date of record timestamps in a zone: the records of a
// poll mostly share a day, and time.Time.In costs more than a comparison.
type dayCache struct {
	zone   *time.Location
	day    domain.Day
	lo, hi time.Time // the day's bounds: [lo, hi)
}

func (c *dayCache) of(t time.Time) domain.Day {
	if !c.day.IsZero() && !t.Before(c.lo) && t.Before(c.hi) {
		return c.day
	}
	zone := c.zone
	if zone == nil {
		zone = time.UTC
	}
	local := t.In(zone)
	y, m, d := local.Date()
	c.day = domain.DayOf(local)
	c.lo, c.hi = time.Date(y, m, d, 0, 0, 0, 0, zone), time.Date(y, m, d+1, 0, 0, 0, 0, zone)
	return c.day
}

// brokerState paces the tries while the brokers are away and logs when
// they go and when they come back, not at every try: an hour's outage is
// two lines, not one every few seconds.
type brokerState struct {
	log      *slog.Logger
	brokers  []string
	failures prometheus.Counter // every failed try
	pace     interface {
		NextBackOff() time.Duration
		Reset()
	}
	isDown bool
	since  time.Time
}

func (b *brokerState) down(err error) {
	b.failures.Inc()
	if !b.isDown {
		b.isDown, b.since = true, time.Now()
		b.pace.Reset()
		b.log.Warn("kafka unavailable; retrying with backoff", "brokers", b.brokers, "error", err)
	}
}

func (b *brokerState) up() {
	if b.isDown {
		b.isDown = false
		b.log.Info("kafka available again", "brokers", b.brokers, "down_ms", ms(time.Since(b.since)))
	}
}

// wait sleeps before the next try; false when ctx ended first.
func (b *brokerState) wait(ctx context.Context) bool {
	return retry.Wait(ctx, b.pace.NextBackOff()) == nil
}

// ms is a duration as the logs write every one: milliseconds, a float.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// tracerName names the spans this package starts.
const tracerName = "stockd/adapters/kafka"
