package kafka

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"stockd/adapters/csv"
	"stockd/domain"
)

// ProducerConfig says where to send ticks.
type ProducerConfig struct {
	Brokers []string
	Topic   string
	// Timeout bounds the wait for unreachable brokers and for each record's
	// delivery.
	Timeout time.Duration
}

// ProduceSummary is what a run of the producer did.
type ProduceSummary struct {
	Records int
	Elapsed time.Duration
}

// ProduceFile validates the whole file, then sends every tick to the topic
// in file order, keyed by stock, with idempotent, all-replica-acknowledged
// writes, and waits until every record is acknowledged. A bad file sends
// nothing.
func ProduceFile(ctx context.Context, cfg ProducerConfig, path string, stocks domain.Stocks) (ProduceSummary, error) {
	start := time.Now()
	if _, err := csv.ReadFile(path, stocks); err != nil {
		return ProduceSummary{}, err
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
		return ProduceSummary{}, fmt.Errorf("KAFKA_BROKERS: %w", err)
	}
	defer cl.Close()

	pingCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if err := cl.Ping(pingCtx); err != nil {
		return ProduceSummary{}, fmt.Errorf("kafka brokers %v unreachable: %w", cfg.Brokers, err)
	}
	if err := EnsureTopics(pingCtx, cl, cfg.Topic); err != nil {
		return ProduceSummary{}, err
	}

	f, err := os.Open(path)
	if err != nil {
		return ProduceSummary{}, err
	}
	defer f.Close()
	var (
		mu       sync.Mutex
		firstErr error
		sent     int
	)
	err = csv.Scan(f, path, stocks, func(t domain.Tick) error {
		mu.Lock()
		failed := firstErr
		mu.Unlock()
		if failed != nil {
			return failed
		}
		sent++
		cl.Produce(ctx, &kgo.Record{Key: []byte(t.Stock), Value: EncodeTick(t)}, func(_ *kgo.Record, err error) {
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
	if ferr := cl.Flush(ctx); err == nil {
		err = ferr
	}
	mu.Lock()
	defer mu.Unlock()
	if err == nil {
		err = firstErr
	}
	if err != nil {
		return ProduceSummary{}, fmt.Errorf("produce to %s: %w", cfg.Topic, err)
	}
	return ProduceSummary{Records: sent, Elapsed: time.Since(start)}, nil
}
