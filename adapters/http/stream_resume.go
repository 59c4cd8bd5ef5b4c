package http

import (
	"slices"

	"stockd/domain"
)

// maxResumeMinutes is the most minutes a resumed stream sends as minute
// events; a client that missed more gets a fresh series, which is the
// smaller message then.
const maxResumeMinutes = 60

// A stream's event ids are the newest minute the client has been sent
// (hhmmss), so that a client that reconnects with Last-Event-ID (as
// EventSource does by itself) gets every minute from that one on: the
// minute it had may have changed since, and the later ones are new.

// resumeCandles are the minutes of s to send a client whose Last-Event-ID
// is lastID, instead of the series: ok is false (send the series) when
// there is no id, it is not one of these ids, s does not hold that minute
// (the trading day changed), or more than maxResumeMinutes came after it.
// A change to a minute before lastID while the client was away (a tick
// that came late) is not resent; the next series has it.
func resumeCandles(lastID string, s domain.MinuteSeries) (candles []domain.MinuteCandle, ok bool) {
	if len(lastID) != 6 {
		return nil, false
	}
	minute, err := domain.ParseTimeOfDay(lastID)
	if err != nil {
		return nil, false
	}
	i, found := slices.BinarySearch(s.Minutes, minute)
	if !found || s.Len()-i > maxResumeMinutes {
		return nil, false
	}
	for j := i; j < s.Len(); j++ {
		candles = append(candles, s.Candle(j))
	}
	return candles, true
}

// eventIDs tracks the newest minute a stream has sent, its event id.
type eventIDs struct {
	newest domain.TimeOfDay
	any    bool
}

// appendID writes the id line of the event that follows, for a stream
// that has now sent minute.
func (e *eventIDs) appendID(b []byte, minute domain.TimeOfDay) []byte {
	if !e.any || minute > e.newest {
		e.newest, e.any = minute, true
	}
	b = append(b, "id: "...)
	b = e.newest.AppendDigits(b)
	return append(b, '\n')
}

// appendMinutes writes a minute event, with its id, for each of minutes.
func (e *eventIDs) appendMinutes(b []byte, minutes []domain.MinuteCandle) []byte {
	for _, m := range minutes {
		b = e.appendID(b, m.Minute)
		b = appendMinuteEvent(b, m)
	}
	return b
}
