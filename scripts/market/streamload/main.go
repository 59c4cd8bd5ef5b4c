// Command streamload measures the stream of many stocks under load, for
// the market stage of scripts/loadtest.sh (docs/performance.md): it
// produces ticks at -rate a second across -stocks stocks into a Kafka
// topic (which a `stockd update` reads into Redis) while -clients clients
// each follow -watch stocks on one GET /api/stream of a `stockd serve`,
// and prints
//
//	RESULT <p50> <p99> <max> <events/s> <KB a client> <ticks seen> <ticks not seen> <streams ended>
//
// The delay of a tick runs from its hand-over to the Kafka client to the
// first minute event a client gets that shows it or a later tick of its
// stock (the updater may write several ticks of a stock at once: the
// event then shows the last, and the earlier ones were shown by it too).
// The memory a client costs is the serving process's VmRSS (-pid) once
// every client has its series, less what it was before they came, over
// the clients.
//
//	go run ./scripts/market/streamload -url http://127.0.0.1:8000 -brokers 127.0.0.1:9092 -topic market -pid 1234
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"stockd/adapters/kafka"
	"stockd/domain"
)

// basePrice is added to a tick's number within its stock to make its
// price, so that the price of an event says which tick it shows.
const basePrice = 1000

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "streamload: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	url, brokers, topic     string
	stocks, clients, watch  int
	rate, pid               int
	duration, drain, attach time.Duration
}

func run() error {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8000", "stockd serve's base URL")
	flag.StringVar(&o.brokers, "brokers", "127.0.0.1:9092", "Kafka brokers, comma-separated")
	flag.StringVar(&o.topic, "topic", "main_topic", "the topic stockd update reads")
	flag.IntVar(&o.stocks, "stocks", 10000, "stocks stock1..stockN, as stockd is configured")
	flag.IntVar(&o.clients, "clients", 100, "clients, each with one stream")
	flag.IntVar(&o.watch, "watch", 50, "stocks a client follows")
	flag.IntVar(&o.rate, "rate", 50000, "ticks a second, across every stock")
	flag.IntVar(&o.pid, "pid", 0, "stockd serve's pid, for its memory (0: not measured)")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long ticks are produced")
	flag.DurationVar(&o.drain, "drain", 5*time.Second, "how long to wait for the last ticks' events")
	flag.DurationVar(&o.attach, "attach", 60*time.Second, "how long the clients may take to get their series")
	flag.Parse()
	if o.stocks < 1 || o.clients < 1 || o.watch < 1 || o.watch > o.stocks || o.rate < 1 {
		return fmt.Errorf("want -stocks, -clients, -rate >= 1 and 1 <= -watch <= -stocks")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := newMeter(o.stocks)
	for c := range o.clients {
		for _, s := range watchedBy(c, o.watch, o.stocks) {
			m.watched[s] = true
		}
	}
	before := vmRSS(o.pid)

	// Every client attaches before a tick is produced, so that each
	// delay is of a stream that was listening.
	var ready, done sync.WaitGroup
	ready.Add(o.clients)
	errs := make(chan error, o.clients)
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.clients, MaxConnsPerHost: 0, DisableCompression: true}}
	for c := range o.clients {
		done.Add(1)
		go func() {
			defer done.Done()
			if err := m.follow(ctx, httpc, o.url, watchedBy(c, o.watch, o.stocks), ready.Done); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("client %d: %w", c, err)
			}
		}()
	}
	attached := make(chan struct{})
	go func() { ready.Wait(); close(attached) }()
	select {
	case <-attached:
	case err := <-errs:
		return err
	case <-time.After(o.attach):
		return fmt.Errorf("the clients did not all get their series within %s", o.attach)
	}
	perClient := float64(vmRSS(o.pid)-before) / float64(o.clients)
	fmt.Fprintf(os.Stderr, "streamload: %d clients attached, %.1f KB a client\n", o.clients, perClient)

	produced, err := produce(ctx, o, m)
	if err != nil {
		return err
	}
	// The last ticks' events, or the drain's end.
	deadline := time.Now().Add(o.drain)
	for time.Now().Before(deadline) && m.unseen(produced) > 0 {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	done.Wait()
	select {
	case err := <-errs:
		fmt.Fprintf(os.Stderr, "streamload: %v\n", err)
	default:
	}

	p50, p99, maxMS := m.delays.quantile(0.5), m.delays.quantile(0.99), m.delays.max()
	seen := m.delays.count()
	fmt.Printf("RESULT %.1fms %.1fms %.1f %.0f %.1f %d %d %d\n", p50, p99, maxMS,
		float64(m.events.Load())/o.duration.Seconds(), perClient, seen, m.unseen(produced), m.ended.Load())
	return nil
}

// watchedBy is the stocks client c follows: -watch consecutive ones from
// c's place, so that the clients together cover the market evenly.
func watchedBy(c, watch, stocks int) []int {
	out := make([]int, watch)
	for j := range out {
		out[j] = (c*watch+j)%stocks + 1
	}
	return out
}

// produce hands ticks to Kafka at o.rate a second for o.duration, each of
// a stock in a shuffled round of every stock, stamped with today's date
// and the time of day (UTC), and returns how many ticks it produced of
// each stock.
func produce(ctx context.Context, o options, m *meter) ([]int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(o.brokers, ",")...), kgo.DefaultProduceTopic(o.topic),
		kgo.ProducerLinger(2*time.Millisecond), kgo.MaxBufferedRecords(1<<20))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(ctx, cl, o.topic); err != nil {
		return nil, err
	}
	order := rand.Perm(o.stocks)
	counts := make([]int64, o.stocks+1)
	var failed atomic.Value
	const step = 10 * time.Millisecond
	tick := time.NewTicker(step)
	defer tick.Stop()
	start := time.Now()
	next := 0
	for sent := 0; time.Since(start) < o.duration; {
		<-tick.C
		due := int(float64(o.rate) * time.Since(start).Seconds())
		for ; sent < due; sent++ {
			stock := order[next] + 1
			next = (next + 1) % o.stocks
			counts[stock]++
			now := time.Now().UTC()
			day := domain.DayOf(now)
			at := domain.TimeOfDay(now.Hour()*3600 + now.Minute()*60 + now.Second())
			name := "stock" + strconv.Itoa(stock)
			t, err := domain.NewTick(name, day, at, basePrice+counts[stock])
			if err != nil {
				return nil, err
			}
			m.sent(stock, now)
			cl.Produce(ctx, &kgo.Record{Key: []byte(name), Value: kafka.EncodeTick(t)}, func(_ *kgo.Record, err error) {
				if err != nil {
					failed.Store(err)
				}
			})
		}
	}
	if err := cl.Flush(ctx); err != nil {
		return nil, err
	}
	if err, ok := failed.Load().(error); ok {
		return nil, fmt.Errorf("produce: %w", err)
	}
	return counts, nil
}

// meter keeps when each tick was handed over and how far each stock has
// been shown to its clients.
type meter struct {
	mu     sync.Mutex
	sentAt [][]int64 // per stock, per tick number (from 1), unix nanoseconds
	shown  []int64   // per stock, the highest tick number any client was shown
	// watched is whether some client follows a stock; it is set before
	// the clients start and only read after.
	watched []bool
	delays  histogram
	events  atomic.Int64
	ended   atomic.Int64
}

func newMeter(stocks int) *meter {
	return &meter{sentAt: make([][]int64, stocks+1), shown: make([]int64, stocks+1), watched: make([]bool, stocks+1)}
}

func (m *meter) sent(stock int, at time.Time) {
	m.mu.Lock()
	m.sentAt[stock] = append(m.sentAt[stock], at.UnixNano())
	m.mu.Unlock()
}

// show records that a client that had been shown tick had of stock got an
// event of tick n: the delays of the ticks in between.
func (m *meter) show(stock int, had, n int64, at time.Time) {
	m.mu.Lock()
	sent := m.sentAt[stock]
	if n > int64(len(sent)) {
		n = int64(len(sent)) // not possible, but a bad price must not panic
	}
	for i := had + 1; i <= n; i++ {
		m.delays.add(float64(at.UnixNano()-sent[i-1]) / 1e6)
	}
	m.shown[stock] = max(m.shown[stock], n)
	m.mu.Unlock()
}

// unseen is how many produced ticks of watched stocks no client was
// shown (a stock no client watches is not counted).
func (m *meter) unseen(produced []int64) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for stock, p := range produced {
		if m.watched[stock] {
			n += p - m.shown[stock]
		}
	}
	return n
}

// follow opens one stream of stocks and records, for every minute event,
// the ticks it shows; ready is called when every series came.
func (m *meter) follow(ctx context.Context, httpc *http.Client, base string, stocks []int, ready func()) error {
	names := make([]string, len(stocks))
	for i, s := range stocks {
		names[i] = "stock" + strconv.Itoa(s)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/stream?stocks="+strings.Join(names, ","), nil)
	if err != nil {
		ready()
		return err
	}
	resp, err := httpc.Do(req)
	if err != nil {
		ready()
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ready()
		return fmt.Errorf("GET /api/stream: %s", resp.Status)
	}
	had := make(map[int]int64, len(stocks))
	series := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var event string
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) > 7 && string(line[:7]) == "event: ":
			event = string(line[7:])
		case len(line) > 6 && string(line[:6]) == "data: ":
			if event == "series" {
				if series++; series == len(stocks) {
					ready()
				}
				continue
			}
			var ev struct {
				Stock string `json:"stock"`
				Price int64  `json:"price"`
			}
			if err := json.Unmarshal(line[6:], &ev); err != nil {
				return fmt.Errorf("minute event %q: %w", line, err)
			}
			now := time.Now()
			m.events.Add(1)
			s, err := strconv.Atoi(strings.TrimPrefix(ev.Stock, "stock"))
			if err != nil || ev.Price <= basePrice {
				continue // a minute of before the run
			}
			n := ev.Price - basePrice
			if n > had[s] {
				m.show(s, had[s], n, now)
				had[s] = n
			}
		}
	}
	if series < len(stocks) {
		ready()
	}
	if ctx.Err() == nil {
		m.ended.Add(1)
		return fmt.Errorf("the stream ended: %v", sc.Err())
	}
	return nil
}

// histogram counts delays in 0.1 ms buckets up to 60 s.
type histogram struct {
	buckets [600000]int64
	n       int64
	top     float64
}

func (h *histogram) add(ms float64) {
	i := min(max(int(ms*10), 0), len(h.buckets)-1)
	h.buckets[i]++
	h.n++
	h.top = max(h.top, ms)
}

func (h *histogram) count() int64 { return h.n }
func (h *histogram) max() float64 { return h.top }

func (h *histogram) quantile(q float64) float64 {
	want := int64(q * float64(h.n))
	var seen int64
	for i, c := range h.buckets {
		if seen += c; seen > want {
			return float64(i) / 10
		}
	}
	return h.top
}

// vmRSS is pid's resident memory in KB (0 without a pid).
func vmRSS(pid int) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}
