package http

import (
	"slices"
	"strings"

	"stockd/domain"
)

// maxResumeMinutes is the most minutes a resumed stream sends as minute
// events; a client that missed more gets a fresh series, which is the
// smaller message then.
const maxResumeMinutes = 60

// A stream's event ids are the newest minute the client has been sent,
// with its trading day (YYYY-MM-DDThhmmss; hhmmss alone for a series of no
// day), so that a client that reconnects with Last-Event-ID (as
// EventSource does by itself) gets every minute from that one on: the
// minute it had may have changed since, and the later ones are new.

// resumeCandles are the minutes of s to send a client whose Last-Event-ID
// is lastID, instead of the series: ok is false (send the series) when
// there is no id, it is not one of these ids, it is of another day than s
// (the trading day changed), s does not hold that minute, or more than maxResumeMinutes came after it.
// A change to a minute before lastID while the client was away (a tick
// that came late) is not resent; the next series has it.
func resumeCandles(lastID string, s domain.MinuteSeries) (candles []domain.MinuteCandle, ok bool) {
	day, minute, ok := parseEventID(lastID)
	if !ok || day != s.Day() {
		return nil, false
	}
	i, found := slices.BinarySearch(s.Minutes(), minute)
	if !found || s.Len()-i > maxResumeMinutes {
		return nil, false
	}
	for j := i; j < s.Len(); j++ {
		candles = append(candles, s.Candle(j))
	}
	return candles, true
}

// parseEventID reads an id that eventIDs wrote.
func parseEventID(id string) (domain.Day, domain.TimeOfDay, bool) {
	var day domain.Day
	if d, t, dated := strings.Cut(id, "T"); dated {
		parsed, err := domain.ParseDay(d)
		if err != nil {
			return 0, 0, false
		}
		day, id = parsed, t
	}
	if len(id) != 6 {
		return 0, 0, false
	}
	minute, err := domain.ParseTimeOfDay(id)
	if err != nil {
		return 0, 0, false
	}
	return day, minute, true
}

// eventIDs tracks the newest minute a stream has sent, and its day: the
// event id.
type eventIDs struct {
	day    domain.Day
	newest domain.TimeOfDay
	any    bool
}

// appendID writes the id line of the event that follows, for a stream
// that has now sent minute of day.
func (e *eventIDs) appendID(b []byte, day domain.Day, minute domain.TimeOfDay) []byte {
	if !e.any || day > e.day || (day == e.day && minute > e.newest) {
		e.day, e.newest, e.any = day, minute, true
	}
	b = append(b, "id: "...)
	if !e.day.IsZero() {
		b = append(e.day.AppendTo(b), 'T')
	}
	b = e.newest.AppendDigits(b)
	return append(b, '\n')
}

// appendMinutes writes a minute event, with its id, for each of minutes
// of day.
func (e *eventIDs) appendMinutes(b []byte, day domain.Day, minutes []domain.MinuteCandle) []byte {
	for _, m := range minutes {
		b = e.appendID(b, day, m.Minute)
		b = appendMinuteEvent(b, day, m)
	}
	return b
}
