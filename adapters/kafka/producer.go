package kafka

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"stockd/domain"
)

// TickScanner reads a finite source of ticks (a file) one tick at a time,
// in source order, as often as asked: what the producer sends, after a
// first pass has checked every tick. The producer declares what it needs;
// csv.Source has it without knowing of this package.
type TickScanner interface {
	// ScanTicks hands every tick to each, in source order, and stops at the
	// first bad tick (an error saying where it is) or the first error of
	// each.
	ScanTicks(ctx context.Context, each func(domain.Tick) error) error
}

// ProducerConfig says where to send ticks.
type ProducerConfig struct {
	Brokers []string
	Topic   string
	// Timeout bounds the wait for unreachable brokers and for each record's
	// delivery.
	Timeout time.Duration
}

// Produce checks every tick of ticks, then sends them to the topic in
// source order, keyed by stock, with idempotent, all-replica-acknowledged
// writes, and waits until every record is acknowledged. A source with a
// bad tick sends nothing. It returns the number of records sent.
func Produce(ctx context.Context, cfg ProducerConfig, ticks TickScanner) (int, error) {
	if err := ticks.ScanTicks(ctx, func(domain.Tick) error { return nil }); err != nil {
		return 0, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), // the default of an idempotent producer, said out loud
		kgo.RecordDeliveryTimeout(cfg.Timeout),
		kgo.ProducerLinger(5*time.Millisecond),
	)
	if err != nil {
		return 0, fmt.Errorf("KAFKA_BROKERS: %w", err)
	}
	defer cl.Close()

	pingCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if err := cl.Ping(pingCtx); err != nil {
		return 0, fmt.Errorf("kafka brokers %v unreachable: %w", cfg.Brokers, err)
	}
	if err := EnsureTopics(pingCtx, cl, cfg.Topic); err != nil {
		return 0, err
	}

	var (
		mu       sync.Mutex
		firstErr error
		sent     int
	)
	err = ticks.ScanTicks(ctx, func(t domain.Tick) error {
		mu.Lock()
		failed := firstErr
		mu.Unlock()
		if failed != nil {
			return failed
		}
		sent++
		cl.Produce(ctx, &kgo.Record{Key: []byte(t.Stock()), Value: EncodeTick(t)}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
		return nil
	})
	// Flush waits for every promise, so nothing runs behind this return.
	if ferr := cl.Flush(ctx); err == nil {
		err = ferr
	}
	mu.Lock()
	defer mu.Unlock()
	if err == nil {
		err = firstErr
	}
	if err != nil {
		return 0, fmt.Errorf("produce to %s: %w", cfg.Topic, err)
	}
	return sent, nil
}
