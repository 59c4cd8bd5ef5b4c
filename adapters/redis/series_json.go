package redis

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"stockd/domain"
)

// The stored series is {"time": ["090000", ...], "price": [...]} as the
// contract fixes, with the trading day it is of ("date": "YYYY-MM-DD";
// absent in a series written before dates, or by another program), plus
// the candle arrays "open", "high" and "low" the contract allows, plus two
// of the service's own: "close_time" and
// "open_time", the times of the ticks that closed and opened each minute
// (null for a carried minute). They are what lets a later tick (or a
// redelivered one) be weighed against the stored candle exactly; a series
// written by someone else has none and is read as ticks at its own times,
// and one written before candles existed has no "open_time" and is read as
// one tick at each close time. Any other field is kept as it was.

// seriesFields are the fields the service writes; every other one is kept.
var seriesFields = []string{"close_time", "date", "high", "low", "open", "open_time", "price", "time"}

type seriesJSON struct {
	Date      *string   `json:"date"`
	Time      []string  `json:"time"`
	Price     []int64   `json:"price"`
	CloseTime []*string `json:"close_time"`
	Open      []int64   `json:"open"`
	High      []int64   `json:"high"`
	Low       []int64   `json:"low"`
	OpenTime  []*string `json:"open_time"`
}

// decodeSeries reads a stored value; an empty value is an empty series.
// It returns the fields the service does not write, to be kept.
func decodeSeries(stock string, raw []byte) (domain.MinuteSeries, map[string]json.RawMessage, error) {
	fields := map[string]json.RawMessage{}
	if len(raw) == 0 {
		return domain.MinuteSeries{}, fields, nil
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return domain.MinuteSeries{}, nil, fmt.Errorf("%w: %s: %v", domain.ErrMalformedSeries, stock, err)
	}
	var sj seriesJSON
	if err := json.Unmarshal(raw, &sj); err != nil {
		return domain.MinuteSeries{}, nil, fmt.Errorf("%w: %s: %v", domain.ErrMalformedSeries, stock, err)
	}
	for _, f := range seriesFields {
		delete(fields, f)
	}
	st := domain.StoredSeries{Minutes: make([]domain.TimeOfDay, len(sj.Time)), Closes: sj.Price}
	if sj.Date != nil { // null, like no date, is an undated series
		day, err := domain.ParseDay(*sj.Date)
		if err != nil {
			return domain.MinuteSeries{}, nil, fmt.Errorf("%w: %s: %v", domain.ErrMalformedSeries, stock, err)
		}
		st.Day = day
	}
	for i, t := range sj.Time {
		m, err := domain.ParseTimeOfDay(t)
		if err != nil {
			return domain.MinuteSeries{}, nil, fmt.Errorf("%w: %s: time %d: %v", domain.ErrMalformedSeries, stock, i, err)
		}
		st.Minutes[i] = m
	}
	// Times of ours that do not parse mean the value is not ours after
	// all: the entries are then read as ticks at their own times.
	st.CloseTimes = tickTimes(sj.CloseTime, len(sj.Time))
	if st.CloseTimes != nil {
		st.OpenTimes = tickTimes(sj.OpenTime, len(sj.Time))
		st.Opens, st.Highs, st.Lows = sj.Open, sj.High, sj.Low
	}
	return domain.SeriesFromStored(st), fields, nil
}

// tickTimes reads close_time or open_time; nil unless it has n entries
// that are all times or null.
func tickTimes(raw []*string, n int) []domain.TimeOfDay {
	if len(raw) != n {
		return nil
	}
	out := make([]domain.TimeOfDay, n)
	for i, c := range raw {
		out[i] = domain.NoTick
		if c == nil {
			continue
		}
		at, err := domain.ParseTimeOfDay(*c)
		if err != nil {
			return nil
		}
		out[i] = at
	}
	return out
}

// encodeSeries writes s and the kept fields as one JSON object, keys
// sorted, so the same series always gives the same bytes; "date" is
// written when s has a day. It is written by
// hand because it runs once per stock per batch on the ingest path, where
// encoding/json's reflection and re-validation of kept fields cost more
// than the rest of the merge.
func encodeSeries(s domain.MinuteSeries, fields map[string]json.RawMessage) []byte {
	n := s.Len()
	b := make([]byte, 0, 64+n*72+keptSize(fields))
	ours := map[string]func([]byte) []byte{
		"close_time": func(b []byte) []byte { return appendTimes(b, s.CloseTimes()) },
		"date": func(b []byte) []byte {
			b = append(b, '"')
			b = s.Day().AppendTo(b)
			return append(b, '"')
		},
		"high":      func(b []byte) []byte { return appendInts(b, s.Highs()) },
		"low":       func(b []byte) []byte { return appendInts(b, s.Lows()) },
		"open":      func(b []byte) []byte { return appendInts(b, s.Opens()) },
		"open_time": func(b []byte) []byte { return appendTimes(b, s.OpenTimes()) },
		"price":     func(b []byte) []byte { return appendInts(b, s.Closes()) },
		"time":      func(b []byte) []byte { return appendTimes(b, s.Minutes()) },
	}
	keys := make([]string, 0, len(fields)+len(ours))
	for _, k := range seriesFields {
		if k != "date" || !s.Day().IsZero() {
			keys = append(keys, k)
		}
	}
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		if write, ok := ours[k]; ok {
			b = append(b, '"')
			b = append(b, k...)
			b = append(b, '"', ':')
			b = write(b)
			continue
		}
		key, _ := json.Marshal(k) // a string always marshals
		b = append(b, key...)
		b = append(b, ':')
		b = append(b, fields[k]...)
	}
	return append(b, '}')
}

func keptSize(fields map[string]json.RawMessage) int {
	n := 0
	for k, v := range fields {
		n += len(k) + len(v) + 4
	}
	return n
}

func appendInts(b []byte, v []int64) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, x, 10)
	}
	return append(b, ']')
}

// appendTimes writes times as "hhmmss" strings, NoTick as null.
func appendTimes(b []byte, v []domain.TimeOfDay) []byte {
	b = append(b, '[')
	for i, t := range v {
		if i > 0 {
			b = append(b, ',')
		}
		if t == domain.NoTick {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '"')
		b = t.AppendDigits(b)
		b = append(b, '"')
	}
	return append(b, ']')
}
