package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"stockd/domain"
	"stockd/internal/retry"
	"stockd/ports"
)

var _ ports.PriceSource = (*Source)(nil)

// SourceConfig says what to consume.
type SourceConfig struct {
	Brokers  []string
	Topic    string
	Group    string
	MaxPoll  int // records per batch at most; 0 is 100,000
	Stocks   domain.Stocks
	Logger   *slog.Logger
	Registry prometheus.Registerer
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
	invalid prometheus.Counter
	batches prometheus.Counter
	lag     *prometheus.GaugeVec
}

// NewSource builds the consumer. It does not wait for the brokers: the
// client connects, and reconnects, on its own.
func NewSource(cfg SourceConfig) (*Source, error) {
	if cfg.MaxPoll <= 0 {
		cfg.MaxPoll = 100000
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
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), // a new group reads from the start
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchMaxWait(500*time.Millisecond),
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
	if cfg.Registry != nil {
		for _, c := range []prometheus.Collector{s.invalid, s.batches, s.lag} {
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
			} else {
				s.lag.Delete(labels)
			}
		}
	}
}

// Close leaves the group and closes the client.
func (s *Source) Close() { s.client.Close() }

// Ping reports whether a broker answers.
func (s *Source) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx); err != nil {
		return fmt.Errorf("%w: kafka: %v", ports.ErrUnavailable, err)
	}
	return nil
}

// Run consumes until ctx is cancelled, then returns nil. A SIGTERM lets
// the batch in hand finish: it is applied and committed, and Run returns.
// If the store or the dead-letter topic is refusing that batch when ctx
// ends, Run returns at once without committing it: nothing is lost, the
// group delivers it again to the next consumer.
func (s *Source) Run(ctx context.Context, apply ports.ApplyBatch) error {
	dlq := s.cfg.Topic + DLQSuffix
	brokers := &brokerState{log: s.log, brokers: s.cfg.Brokers, pace: retry.Outage.BackOff()}
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
		fetches := s.client.PollRecords(ctx, s.cfg.MaxPoll)
		if fetches.IsClientClosed() {
			return nil
		}
		var fetchErr error
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && fetchErr == nil {
				fetchErr = fmt.Errorf("fetch %s/%d: %w", topic, p, err)
			}
		})
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
		work := context.WithoutCancel(ctx)
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
func (s *Source) handle(ctx, work context.Context, fetches kgo.Fetches, dlq string, apply ports.ApplyBatch) error {
	batch := domain.NewTickBatch()
	var dead []*kgo.Record
	records := 0
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if n := len(p.Records); n > 0 {
			s.lag.WithLabelValues(p.Topic, strconv.Itoa(int(p.Partition))).Set(float64(p.HighWatermark - p.Records[n-1].Offset - 1))
		}
		for _, r := range p.Records {
			records++
			t, err := DecodeRecord(r.Key, r.Value, s.cfg.Stocks)
			if err != nil {
				s.invalid.Inc()
				s.log.Warn("invalid record sent to the dead-letter topic", "topic", r.Topic,
					"partition", r.Partition, "offset", r.Offset, "error", err)
				dead = append(dead, &kgo.Record{Topic: dlq, Key: r.Key, Value: r.Value, Headers: []kgo.RecordHeader{
					{Key: ReasonHeader, Value: []byte(err.Error())},
					{Key: "stockd-source", Value: []byte(r.Topic + "/" + strconv.Itoa(int(r.Partition)) + "/" + strconv.FormatInt(r.Offset, 10))},
				}})
				continue
			}
			batch.Add(t)
		}
	})
	if records == 0 {
		return nil
	}
	// Dead letters first: once committed, a record exists only there.
	if len(dead) > 0 {
		if err := s.retry(ctx, "dead-letter topic unavailable; retrying", func() error {
			return s.client.ProduceSync(work, dead...).FirstErr()
		}); err != nil {
			return nil // not committed: redelivered after restart
		}
	}
	if err := s.retry(ctx, "price store refused a batch; retrying", func() error {
		return apply(work, batch)
	}, "ticks", batch.Ticks()); err != nil {
		return nil // not committed: redelivered after restart
	}
	commitCtx, cancel := context.WithTimeout(work, 30*time.Second)
	defer cancel()
	if err := s.client.CommitUncommittedOffsets(commitCtx); err != nil {
		// The batch is applied; redelivering it is harmless.
		s.log.Warn("offset commit failed; the batch will be redelivered", "error", err)
		return nil
	}
	s.batches.Inc()
	return nil
}

// retry runs op with the outage policy until it succeeds or ctx ends,
// logging each failure with msg and attrs; the error is ctx's.
func (s *Source) retry(ctx context.Context, msg string, op func() error, attrs ...any) error {
	attempt := 0
	_, err := retry.Do(ctx, retry.Outage, func() (struct{}, error) { return struct{}{}, op() },
		func(err error, wait time.Duration) {
			attempt++
			s.log.Warn(msg, append(attrs, "attempt", attempt, "error", err, "retry_in_ms", ms(wait))...)
		})
	return err
}

// brokerState paces the tries while the brokers are away and logs when
// they go and when they come back, not at every try: an hour's outage is
// two lines, not one every few seconds.
type brokerState struct {
	log     *slog.Logger
	brokers []string
	pace    interface {
		NextBackOff() time.Duration
		Reset()
	}
	isDown bool
	since  time.Time
}

func (b *brokerState) down(err error) {
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
