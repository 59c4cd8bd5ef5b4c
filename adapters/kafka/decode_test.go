package kafka_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/kafka"
)

func TestDecodeRecordChecksTheKey(t *testing.T) {
	t.Parallel()
	value := []byte(`{"stock":"stock2","time":"090006","price":7}`)
	for _, tc := range []struct {
		key      string
		mismatch bool
	}{
		{"stock2", false},
		{"Stock2", false}, // stock names are case-insensitive
		{"", false},       // a keyless record names no stock
		{"stock1", true},
		{"stock99", true},
		{"stock2 ", false},
	} {
		tick, err := kafka.DecodeRecord([]byte(tc.key), value, day0, stocks(t))
		if tc.mismatch {
			require.ErrorIs(t, err, kafka.ErrKeyMismatch, tc.key)
			continue
		}
		require.NoError(t, err, tc.key)
		assert.Equal(t, "stock2", tick.Stock())
	}
}

// FuzzDecodeRecord: no record makes the decoder panic, and what it accepts
// encodes back to a record that decodes to the same tick.
func FuzzDecodeRecord(f *testing.F) {
	for _, seed := range []struct{ key, value string }{
		{"stock1", `{"stock":"stock1","time":"090006","price":1734}`},
		{"", `{"stock":"Stock2","time":90006,"price":1}`},
		{"stock3", `{"stock":"stock3","time":"09:00:06","price":2,"x":[1]}`},
		{"stock1", `{"stock":"stock2","time":"090006","price":2}`},
		{"stock1", `{"stock":"stock1","time":"090006","price":2} {}`},
		{"stock1", `{"stock":"stock1","time":"","price":9223372036854775807}`},
		{"stock1", `{"stock":"stock1","time":"090006","price":9223372036854775808}`},
		{"stock1", `{"stock":"stock1","time":"090006","price":0123}`},
		{"stock1", `{"stock":"stock1","time":"090006","price":0}`},
		{"stock1", `{"stock":"st\u006fck1","time":"090006","price":5}`},
		{"stock1", `{"stock":"stock1","time":"250000","price":5}`},
		{"stock1", `{"stock":"stock1","time":"090006","price":5}}`},
		{"stock9", `{"stock":"stock9","time":"090006","price":5}`},
		{"stock1", `{"stock":"stock1","date":"2026-03-03","time":"090006","price":1734}`},
		{"stock1", `{"stock":"stock1","date":"2026-02-30","time":"090006","price":1734}`},
		{"stock1", `{"stock":"stock1","date":null,"time":"090006","price":1734}`},
		{"stock1", `{"stock":"stock1","date":20260303,"time":"090006","price":1734}`},
		{"stock1", `{"stock":"stock1","date":"2026\u002d03-03","time":"090006","price":1734}`},
		{"stock1", `{"stock":"stock1","time":"090006","price":1734,"date":"2026-03-04"}`},
	} {
		f.Add([]byte(seed.key), []byte(seed.value))
	}
	s := stocks(f)
	f.Fuzz(func(t *testing.T, key, value []byte) {
		// The fast path for EncodeTick's layout reads as encoding/json does.
		fast, ferr := kafka.DecodeTick(value, day0, s)
		slow, serr := kafka.DecodeTickJSON(value, day0, s)
		require.Equal(t, serr == nil, ferr == nil, "fast: %v, general: %v", ferr, serr)
		require.Equal(t, slow, fast)

		tick, err := kafka.DecodeRecord(key, value, day0, s)
		if err != nil {
			if errors.Is(err, kafka.ErrKeyMismatch) {
				_, verr := kafka.DecodeTick(value, day0, s)
				require.NoError(t, verr, "a key mismatch is reported only for a valid value")
			}
			return
		}
		// Encoded, the tick carries its day: another default changes nothing.
		back, err := kafka.DecodeRecord([]byte(tick.Stock()), kafka.EncodeTick(tick), day0.AddDays(1), s)
		require.NoError(t, err)
		require.Equal(t, tick, back)
	})
}

// BenchmarkDecodeRecord decodes what `stockd produce` writes (with its
// date) and what a producer without dates writes: the updater's cost per
// record, before the store.
func BenchmarkDecodeRecord(b *testing.B) {
	s := stocks(b)
	for name, value := range map[string][]byte{
		"dated":   []byte(`{"stock":"stock7","date":"2026-03-02","time":"090006","price":1734}`),
		"undated": []byte(`{"stock":"stock7","time":"090006","price":1734}`),
	} {
		b.Run(name, func(b *testing.B) {
			key := []byte("stock7")
			for b.Loop() {
				if _, err := kafka.DecodeRecord(key, value, day0, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
