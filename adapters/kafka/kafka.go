// Package kafka is the Kafka edge (franz-go): the producer that fills the
// price topic from a tick source (a CSV file), and the price source that consumes it in a
// consumer group, committing only what the store has applied.
package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"stockd/domain"
)

// DefaultPartitions is the partition count of a topic the service creates:
// records are keyed by stock, so each stock stays in order on one partition
// while up to this many consumers share the load.
const DefaultPartitions = 3

// DLQSuffix names the dead-letter topic of a topic.
const DLQSuffix = ".dlq"

// ReasonHeader is the header of a dead letter that says why it was refused.
const ReasonHeader = "stockd-error"

// tickJSON is a record's value: {"stock": "stock1", "date": "2026-03-02",
// "time": "090006", "price": 1734}, the date optional.
type tickJSON struct {
	Stock string          `json:"stock"`
	Date  *string         `json:"date"`
	Time  json.RawMessage `json:"time"`
	Price json.RawMessage `json:"price"`
}

// EncodeTick renders a tick as a record value: its date, and its time as
// six digits.
func EncodeTick(t domain.Tick) []byte {
	b := make([]byte, 0, 80)
	b = append(b, `{"stock":`...)
	b = strconv.AppendQuote(b, t.Stock())
	b = append(b, `,"date":"`...)
	b = t.Day().AppendTo(b)
	b = append(b, `","time":"`...)
	b = t.At().AppendDigits(b)
	b = append(b, `","price":`...)
	b = strconv.AppendInt(b, t.Price(), 10)
	return append(b, '}')
}

// DecodeTick reads a record's value. The date, when the value has one,
// must be YYYY-MM-DD; without one (or null) the tick is on day, the date
// of the record's timestamp in APP_TIMEZONE. The time may be a string or
// a number in any format of the contract; the price must be a positive
// integer.
//
// Values exactly as EncodeTick writes them, which is every record of
// `stockd produce` (and of producers that leave the date out), are read
// without encoding/json: decoding is most of what the updater spends on a
// record. Anything else takes the general path; both give the same tick
// (FuzzDecodeRecord checks it).
func DecodeTick(value []byte, day domain.Day, stocks domain.Stocks) (domain.Tick, error) {
	if stock, dated, at, price, ok := scanEncodedTick(value); ok {
		name, err := stocks.Canonical(string(stock))
		if err != nil {
			return domain.Tick{}, err
		}
		if !dated.IsZero() {
			day = dated
		}
		return domain.NewTick(name, day, at, price)
	}
	return decodeTickJSON(value, day, stocks)
}

// scanEncodedTick matches value against EncodeTick's layout,
// {"stock":"S","date":"YYYY-MM-DD","time":"hhmmss","price":N}, the date
// optional, with S free of escapes and N plain digits without a leading
// zero. ok is false for any other text, and for a date or time that does
// not parse (the general path says why).
func scanEncodedTick(value []byte) (stock []byte, day domain.Day, at domain.TimeOfDay, price int64, ok bool) {
	rest, found := bytes.CutPrefix(value, []byte(`{"stock":"`))
	if !found {
		return nil, 0, 0, 0, false
	}
	end := bytes.IndexAny(rest, `"\`)
	if end < 0 || rest[end] != '"' {
		return nil, 0, 0, 0, false
	}
	stock, rest = rest[:end], rest[end:]
	if after, dated := bytes.CutPrefix(rest, []byte(`","date":"`)); dated {
		if len(after) < 10 {
			return nil, 0, 0, 0, false
		}
		text := after[:10]
		y, okY := number(text[0:4])
		m, okM := number(text[5:7])
		dd, okD := number(text[8:10])
		if !okY || !okM || !okD || text[4] != '-' || text[7] != '-' {
			return nil, 0, 0, 0, false
		}
		d, err := domain.NewDay(int(y), time.Month(m), int(dd))
		if err != nil {
			return nil, 0, 0, 0, false
		}
		day, rest = d, after[10:]
	}
	if rest, found = bytes.CutPrefix(rest, []byte(`","time":"`)); !found || len(rest) < 6 {
		return nil, 0, 0, 0, false
	}
	digits := rest[:6]
	if rest, found = bytes.CutPrefix(rest[6:], []byte(`","price":`)); !found {
		return nil, 0, 0, 0, false
	}
	num, found := bytes.CutSuffix(rest, []byte(`}`))
	if !found || len(num) == 0 || len(num) > 19 || num[0] == '0' {
		return nil, 0, 0, 0, false
	}
	// Read here rather than by ParseTimeOfDay and ParseInt, which would
	// each take a copy of the bytes as a string: a record's allocations
	// are most of its cost.
	h, okH := number(digits[0:2])
	mi, okM := number(digits[2:4])
	sec, okS := number(digits[4:6])
	if !okH || !okM || !okS || h > 23 || mi > 59 || sec > 59 {
		return nil, 0, 0, 0, false
	}
	if price, found = number(num); !found {
		return nil, 0, 0, 0, false
	}
	return stock, day, domain.TimeOfDay(h*3600 + mi*60 + sec), price, true
}

// number reads b as plain decimal digits; ok is false for anything else
// and for a value past int64.
func number(b []byte) (n int64, ok bool) {
	if len(b) == 0 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' || n > (1<<63-1-int64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// decodeTickJSON is the general reading of a value, by encoding/json.
func decodeTickJSON(value []byte, day domain.Day, stocks domain.Stocks) (domain.Tick, error) {
	var tj tickJSON
	dec := json.NewDecoder(bytes.NewReader(value))
	if err := dec.Decode(&tj); err != nil {
		return domain.Tick{}, fmt.Errorf("value is not a JSON tick: %v", err)
	}
	if dec.More() {
		return domain.Tick{}, errors.New("value has data after the JSON object")
	}
	stock, err := stocks.Canonical(tj.Stock)
	if err != nil {
		return domain.Tick{}, err
	}
	if tj.Date != nil {
		if day, err = domain.ParseDay(*tj.Date); err != nil {
			return domain.Tick{}, err
		}
	}
	timeText := string(bytes.Trim(tj.Time, `"`))
	at, err := domain.ParseTimeOfDay(timeText)
	if err != nil {
		return domain.Tick{}, err
	}
	price, err := strconv.ParseInt(string(tj.Price), 10, 64)
	if err != nil {
		return domain.Tick{}, fmt.Errorf("%w: %s", domain.ErrBadPrice, tj.Price)
	}
	return domain.NewTick(stock, day, at, price)
}

// ErrKeyMismatch reports a record whose key names another stock than its
// value. The key decides the partition, and so the order of a stock's
// ticks; a record that contradicts itself is not guessed at.
var ErrKeyMismatch = errors.New("record key names another stock than its value")

// DecodeRecord reads a record: its value as DecodeTick does (day being
// the date of the record's timestamp), and its key, which must be the
// value's stock (in any case) or empty.
func DecodeRecord(key, value []byte, day domain.Day, stocks domain.Stocks) (domain.Tick, error) {
	t, err := DecodeTick(value, day, stocks)
	if err != nil || len(key) == 0 || string(key) == t.Stock() { // the common case, without a copy of the key
		return t, err
	}
	if k, err := stocks.Canonical(string(key)); err != nil || k != t.Stock() {
		// Bounded: the reason goes into a header and a log line.
		return domain.Tick{}, fmt.Errorf("%w: key %.64q, value's stock %q", ErrKeyMismatch, key, t.Stock())
	}
	return t, nil
}

// EnsureTopics creates the topics that do not exist yet, with
// DefaultPartitions and the brokers' default replication.
func EnsureTopics(ctx context.Context, cl *kgo.Client, topics ...string) error {
	adm := kadm.NewClient(cl)
	for _, t := range topics {
		resp, err := adm.CreateTopic(ctx, DefaultPartitions, -1, nil, t)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", t, err)
		}
	}
	return nil
}
