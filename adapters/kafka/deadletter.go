package kafka

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Bounds of a dead letter, so that one always fits the dead-letter topic
// (brokers refuse records over max.message.bytes, 1,000,012 B by default,
// and so does the client).
const (
	// MaxReason is the longest reason header: a reason quotes what it
	// refuses, and a record may hold a stock name of a megabyte.
	MaxReason = 1 << 10
	// MaxDeadValue is how much of a value a dead letter keeps when the
	// whole record is too large for the dead-letter topic.
	MaxDeadValue = 64 << 10
	// maxDeadKey is how much of a key such a dead letter keeps: a key is
	// a stock name, a few bytes when it is one.
	maxDeadKey = 1 << 10
)

// CutHeader is on a dead letter that was cut down to fit; it says what
// the original held ("key 600000 bytes, value 1000000 bytes").
const CutHeader = "stockd-cut"

// reason is err's message, cut to MaxReason bytes on a rune boundary.
func reason(err error) string {
	msg := err.Error()
	if len(msg) <= MaxReason {
		return msg
	}
	suffix := fmt.Sprintf("... (%d bytes)", len(msg))
	cut := MaxReason - len(suffix)
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + suffix
}

// deadLetter is the copy of r that goes to the dead-letter topic dlq.
func deadLetter(r *kgo.Record, dlq, why string) *kgo.Record {
	return &kgo.Record{Topic: dlq, Key: r.Key, Value: r.Value, Headers: []kgo.RecordHeader{
		{Key: ReasonHeader, Value: []byte(why)},
		{Key: "stockd-source", Value: []byte(r.Topic + "/" + strconv.Itoa(int(r.Partition)) + "/" + strconv.FormatInt(r.Offset, 10))},
	}}
}

// tooLarge reports whether a write failed for the record's size, which no
// retry mends.
func tooLarge(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge)
}

// cutDown returns d with its value cut to MaxDeadValue and its key to
// maxDeadKey, and a CutHeader; ok is false when d was cut already.
func cutDown(d *kgo.Record) (cut *kgo.Record, ok bool) {
	for _, h := range d.Headers {
		if h.Key == CutHeader {
			return nil, false
		}
	}
	cut = &kgo.Record{Topic: d.Topic, Key: d.Key[:min(len(d.Key), maxDeadKey)], Value: d.Value[:min(len(d.Value), MaxDeadValue)]}
	cut.Headers = append(append(cut.Headers, d.Headers...), kgo.RecordHeader{Key: CutHeader,
		Value: fmt.Appendf(nil, "key %d bytes, value %d bytes", len(d.Key), len(d.Value))})
	return cut, true
}
