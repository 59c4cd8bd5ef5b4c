package redis

import (
	"encoding/json"
	"fmt"

	"stockd/domain"
)

// The stored series is {"time": ["090000", ...], "price": [...]} as the
// contract fixes, plus "close_time": the time of the tick that closed each
// minute, null for a carried minute. It is what lets a later tick (or a
// redelivered one) be weighed against the stored close exactly; a series
// written by someone else has none and is read as ticks at its own times.
// Any other field is kept as it was.

type seriesJSON struct {
	Time      []string  `json:"time"`
	Price     []int64   `json:"price"`
	CloseTime []*string `json:"close_time"`
}

// decodeSeries reads a stored value; an empty value is an empty series.
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
	s := domain.MinuteSeries{Minutes: make([]domain.TimeOfDay, len(sj.Time)), Prices: sj.Price}
	for i, t := range sj.Time {
		m, err := domain.ParseTimeOfDay(t)
		if err != nil {
			return domain.MinuteSeries{}, nil, fmt.Errorf("%w: %s: time %d: %v", domain.ErrMalformedSeries, stock, i, err)
		}
		s.Minutes[i] = m
	}
	if len(sj.CloseTime) == len(sj.Time) {
		s.CloseAt = make([]domain.TimeOfDay, len(sj.CloseTime))
		for i, c := range sj.CloseTime {
			s.CloseAt[i] = domain.NoTick
			if c == nil {
				continue
			}
			at, err := domain.ParseTimeOfDay(*c)
			if err != nil {
				s.CloseAt = nil // not ours after all: read every entry as a tick
				break
			}
			s.CloseAt[i] = at
		}
	}
	return s, fields, nil
}

// encodeSeries writes s into fields, keeping the others. encoding/json
// sorts map keys, so the same series always gives the same bytes.
func encodeSeries(s domain.MinuteSeries, fields map[string]json.RawMessage) ([]byte, error) {
	sj := seriesJSON{
		Time:      make([]string, len(s.Minutes)),
		Price:     s.Prices,
		CloseTime: make([]*string, len(s.CloseAt)),
	}
	for i, m := range s.Minutes {
		sj.Time[i] = m.String()
	}
	for i, at := range s.CloseAt {
		if at != domain.NoTick {
			v := at.String()
			sj.CloseTime[i] = &v
		}
	}
	var err error
	if fields["time"], err = json.Marshal(sj.Time); err != nil {
		return nil, err
	}
	if fields["price"], err = json.Marshal(sj.Price); err != nil {
		return nil, err
	}
	if fields["close_time"], err = json.Marshal(sj.CloseTime); err != nil {
		return nil, err
	}
	return json.Marshal(fields)
}
