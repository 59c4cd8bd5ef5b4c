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
	"stockd/ports"
)

var _ ports.PriceSource = (*Source)(nil)

// SourceConfig says what to consume.
type SourceConfig struct {
	Brokers  []string
	Topic    string
	Group    string
	MaxPoll  int // records per batch; 0 is 10,000
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
		cfg.MaxPoll = 10000
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
	)
	if err != nil {
		return nil, fmt.Errorf("KAFKA_BROKERS: %w", err)
	}
	s := &Source{
		cfg: cfg, client: cl, log: cfg.Logger,
		invalid: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stockd_kafka_invalid_records_total",
			Help: "Records that were not valid ticks, sent to the dead-letter topic.",
		}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stockd_kafka_batches_committed_total",
			Help: "Batches applied to the price store and committed.",
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stockd_kafka_lag",
			Help: "Records behind the high watermark, by partition, as of the last poll.",
		}, []string{"partition"}),
	}
	if cfg.Registry != nil {
		for _, c := range []prometheus.Collector{s.invalid, s.batches, s.lag} {
			if err := cfg.Registry.Register(c); err != nil {
				return nil, err
			}
		}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
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

// Run consumes until ctx is cancelled, then returns nil once the batch in
// hand is applied and committed.
func (s *Source) Run(ctx context.Context, apply ports.ApplyBatch) error {
	dlq := s.cfg.Topic + DLQSuffix
	for {
		err := s.client.Ping(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("waiting for kafka", "brokers", s.cfg.Brokers, "error", err)
		sleep(ctx, 2*time.Second)
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
		failed := false
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				failed = true
				s.log.Warn("kafka fetch", "topic", topic, "partition", p, "error", err)
			}
		})
		if failed && fetches.NumRecords() == 0 {
			sleep(ctx, time.Second) // brokers away: retry without spinning
		}
		// From here the batch is finished even if ctx is cancelled: a
		// SIGTERM applies and commits what was polled, then exits.
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

// handle applies one poll's records and commits them.
func (s *Source) handle(ctx, work context.Context, fetches kgo.Fetches, dlq string, apply ports.ApplyBatch) error {
	batch := domain.NewTickBatch()
	var dead []*kgo.Record
	records := 0
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if n := len(p.Records); n > 0 {
			s.lag.WithLabelValues(strconv.Itoa(int(p.Partition))).Set(float64(p.HighWatermark - p.Records[n-1].Offset - 1))
		}
		for _, r := range p.Records {
			records++
			t, err := DecodeTick(r.Value, s.cfg.Stocks)
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
	for len(dead) > 0 {
		if err := s.client.ProduceSync(work, dead...).FirstErr(); err != nil {
			s.log.Warn("dead-letter topic unavailable; retrying", "error", err)
			if !sleep(ctx, time.Second) {
				return nil // not committed: redelivered after restart
			}
			continue
		}
		dead = nil
	}
	for attempt := 1; ; attempt++ {
		err := apply(work, batch)
		if err == nil {
			break
		}
		s.log.Warn("price store refused a batch; retrying", "attempt", attempt, "ticks", batch.Ticks(), "error", err)
		if !sleep(ctx, min(time.Duration(attempt)*200*time.Millisecond, 5*time.Second)) {
			return nil // not committed: redelivered after restart
		}
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

// sleep waits d unless ctx ends first; it reports whether it slept.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
