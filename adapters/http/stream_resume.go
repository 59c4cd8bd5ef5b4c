package http

import (
	"encoding/binary"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"stockd/domain"
)

// maxResumeMinutes is the most minutes a resumed stream sends as minute
// events; a client that missed more gets a fresh series, which is the
// smaller message then.
const maxResumeMinutes = 60

// A stream's event id says what the client holds: the newest minute it has
// been sent, with its trading day, and a checksum of every earlier minute
// as the client has it (YYYY-MM-DDThhmmss.<16 hex digits>; no day part for
// a series of no day). A client that reconnects with Last-Event-ID (as
// EventSource does by itself) gets every minute from its newest on, which
// may have changed since or be new, but only while every earlier minute is
// still as it has it: a tick that came late while it was away changes an
// earlier minute (and the carried ones after it), and then it gets a fresh
// series. The checksum is of content, not of history, so any process can
// judge an id that another one gave out.

// resumeCandles are the minutes of s to send a client whose Last-Event-ID
// is lastID, instead of the series: ok is false (send the series) when
// there is no id, it is not one of these ids, it is of another day than s
// (the trading day changed), s does not hold that minute, a minute before
// it is not as the client has it, or more than maxResumeMinutes came after
// it.
func resumeCandles(lastID string, s domain.MinuteSeries) (candles []domain.MinuteCandle, ok bool) {
	day, minute, sum, ok := parseEventID(lastID)
	if !ok || day != s.Day() {
		return nil, false
	}
	i, found := slices.BinarySearch(s.Minutes(), minute)
	if !found || s.Len()-i > maxResumeMinutes {
		return nil, false
	}
	var before uint64
	for j := range i {
		before += digestOf(s.Candle(j))
	}
	if before != sum {
		return nil, false
	}
	for j := i; j < s.Len(); j++ {
		candles = append(candles, s.Candle(j))
	}
	return candles, true
}

// parseEventID reads an id that eventIDs wrote.
func parseEventID(id string) (domain.Day, domain.TimeOfDay, uint64, bool) {
	var day domain.Day
	if d, rest, dated := strings.Cut(id, "T"); dated {
		parsed, err := domain.ParseDay(d)
		if err != nil {
			return 0, 0, 0, false
		}
		day, id = parsed, rest
	}
	at, hex, ok := strings.Cut(id, ".")
	if !ok || len(at) != 6 || len(hex) != 16 {
		return 0, 0, 0, false
	}
	minute, err := domain.ParseTimeOfDay(at)
	if err != nil {
		return 0, 0, 0, false
	}
	sum, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return 0, 0, 0, false
	}
	return day, minute, sum, true
}

// digestOf is a minute's share of the checksum. Shares are added, so that
// the checksum of a prefix can be kept up to date as single minutes change.
func digestOf(c domain.MinuteCandle) uint64 {
	var b [40]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(c.Minute))
	binary.LittleEndian.PutUint64(b[8:], uint64(c.Open))
	binary.LittleEndian.PutUint64(b[16:], uint64(c.High))
	binary.LittleEndian.PutUint64(b[24:], uint64(c.Low))
	binary.LittleEndian.PutUint64(b[32:], uint64(c.Close))
	h := fnv.New64a()
	_, _ = h.Write(b[:])
	return h.Sum64()
}

// eventIDs tracks what a stream's client holds, for its event ids: the day,
// the newest minute sent, and each minute's share of the checksum (8 bytes
// a minute, not the candles: a stream held for hours stays small).
type eventIDs struct {
	day    domain.Day
	newest domain.TimeOfDay
	any    bool
	held   []uint64 // by minute of the day; 0: not held
	total  uint64   // the sum of held
}

// hold records that the client now holds c of day; a later day starts
// afresh, as the client starts a new chart.
func (e *eventIDs) hold(day domain.Day, c domain.MinuteCandle) {
	if e.held == nil {
		e.held = make([]uint64, domain.SecondsPerDay/60)
	}
	if !e.any || day > e.day {
		clear(e.held)
		e.day, e.newest, e.any, e.total = day, c.Minute, true, 0
	}
	if c.Minute > e.newest {
		e.newest = c.Minute
	}
	d := digestOf(c)
	e.total += d - e.held[c.Minute/60]
	e.held[c.Minute/60] = d
}

// holdSeries records that the client holds every minute of s.
func (e *eventIDs) holdSeries(s domain.MinuteSeries) {
	for i := range s.Len() {
		e.hold(s.Day(), s.Candle(i))
	}
}

// appendID writes the id line of the event that follows.
func (e *eventIDs) appendID(b []byte) []byte {
	// newest is the latest minute held, so every share after it is zero
	// and the sum of those before it is the total less its own.
	before := e.total - e.held[e.newest/60]
	b = append(b, "id: "...)
	if !e.day.IsZero() {
		b = append(e.day.AppendTo(b), 'T')
	}
	b = append(e.newest.AppendDigits(b), '.')
	var hex [16]byte
	digits := strconv.AppendUint(hex[:0], before, 16)
	for range 16 - len(digits) {
		b = append(b, '0')
	}
	b = append(b, digits...)
	return append(b, '\n')
}

// appendMinutes writes a minute event, with its id, for each of minutes
// of day.
func (e *eventIDs) appendMinutes(b []byte, day domain.Day, minutes []domain.MinuteCandle) []byte {
	for _, m := range minutes {
		e.hold(day, m)
		b = e.appendID(b)
		b = appendMinuteEvent(b, day, m)
	}
	return b
}
