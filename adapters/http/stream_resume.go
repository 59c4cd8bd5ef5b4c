package http

import (
	"encoding/base64"
	"encoding/binary"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"stockd/domain"
)

// maxResumeMinutes is the most minutes a resumed stream sends of a stock
// as minute events; a client that missed more gets a fresh series, which
// is the smaller message then.
const maxResumeMinutes = 60

// A stream's event id says what the client holds of a stock: the newest
// minute it has been sent, with its trading day, and a checksum of every
// earlier minute as the client has it. A client that reconnects with
// Last-Event-ID (as EventSource does by itself) gets every minute from its
// newest on, which may have changed since or be new, but only while every
// earlier minute is still as it has it: a tick that came late while it
// was away changes an earlier minute (and the carried ones after it), and
// then it gets a fresh series. The checksum is of content, not of
// history, so any process can judge an id that another one gave out.
//
// One stock's stream writes YYYY-MM-DDThhmmss.<16 hex digits> (no day
// part for a series of no day). A stream of many writes one id for all of
// its stocks (see appendManyID), 7 bytes a stock.

// heldMinutes is what an id says a client holds of one stock; bits is how
// many low bits of the checksum the id kept.
type heldMinutes struct {
	day    domain.Day
	minute domain.TimeOfDay
	sum    uint64
	bits   uint
}

// resumeCandles are the minutes of s to send a client that holds h,
// instead of the series: ok is false (send the series) when h is of
// another day than s (the trading day changed), s does not hold that
// minute, a minute before it is not as the client has it, or more than
// maxResumeMinutes came after it.
func resumeCandles(h heldMinutes, s domain.MinuteSeries) (candles []domain.MinuteCandle, ok bool) {
	if h.day != s.Day() {
		return nil, false
	}
	i, found := slices.BinarySearch(s.Minutes(), h.minute)
	if !found || s.Len()-i > maxResumeMinutes {
		return nil, false
	}
	var before uint64
	for j := range i {
		before += digestOf(s.Candle(j))
	}
	if h.bits < 64 {
		before &= 1<<h.bits - 1
	}
	if before != h.sum {
		return nil, false
	}
	for j := i; j < s.Len(); j++ {
		candles = append(candles, s.Candle(j))
	}
	return candles, true
}

// parseEventID reads an id of one stock's stream that eventIDs wrote.
func parseEventID(id string) (heldMinutes, bool) {
	var day domain.Day
	if d, rest, dated := strings.Cut(id, "T"); dated {
		parsed, err := domain.ParseDay(d)
		if err != nil {
			return heldMinutes{}, false
		}
		day, id = parsed, rest
	}
	at, hex, ok := strings.Cut(id, ".")
	if !ok || len(at) != 6 || len(hex) != 16 {
		return heldMinutes{}, false
	}
	minute, err := domain.ParseTimeOfDay(at)
	if err != nil {
		return heldMinutes{}, false
	}
	sum, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return heldMinutes{}, false
	}
	return heldMinutes{day: day, minute: minute, sum: sum, bits: 64}, true
}

// digestOf is a minute's share of the checksum. Shares are added, so that
// the checksum of a prefix can be kept up to date as minutes come.
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

// eventIDs tracks what a stream's client holds of one stock, for its
// event ids: the day, the newest minute sent, its share of the checksum
// and the sum of the earlier ones' (a few words, not the minutes: a
// stream of a thousand stocks held for hours stays small). A minute
// earlier than the newest that changes while the client watches (a late
// tick) would need the share it had; rather than keep every share, the
// stock's id then says that nothing is known, and a client that
// reconnects gets its series afresh.
type eventIDs struct {
	day    domain.Day
	newest domain.TimeOfDay
	any    bool
	before uint64 // the sum of the shares of the minutes before newest
	last   uint64 // newest's share
	stale  bool
}

// hold records that the client now holds c of day; a later day starts
// afresh, as the client starts a new chart.
func (e *eventIDs) hold(day domain.Day, c domain.MinuteCandle) {
	d := digestOf(c)
	switch {
	case !e.any || day > e.day:
		*e = eventIDs{day: day, newest: c.Minute, any: true, last: d}
	case day < e.day: // not the latest day's: the feed sends none
	case c.Minute > e.newest:
		e.before += e.last
		e.newest, e.last = c.Minute, d
	case c.Minute == e.newest:
		e.last = d
	default:
		e.stale = true
	}
}

// holdSeries records that the client holds every minute of s.
func (e *eventIDs) holdSeries(s domain.MinuteSeries) {
	for i := range s.Len() {
		e.hold(s.Day(), s.Candle(i))
	}
}

// staleID is the id of a stock whose client's minutes are not known:
// parseEventID refuses it, so a client that comes back with it gets a
// fresh series.
const staleID = "stale"

// appendID writes the id line of the event that follows, on one stock's
// stream.
func (e *eventIDs) appendID(b []byte) []byte {
	b = append(b, "id: "...)
	if e.stale {
		return append(append(b, staleID...), '\n')
	}
	if !e.day.IsZero() {
		b = append(e.day.AppendTo(b), 'T')
	}
	b = append(e.newest.AppendDigits(b), '.')
	var hex [16]byte
	digits := strconv.AppendUint(hex[:0], e.before, 16)
	for range 16 - len(digits) {
		b = append(b, '0')
	}
	b = append(b, digits...)
	return append(b, '\n')
}

// The id of a stream of many stocks: "m" and, in unpadded base64url, a
// version byte, the FNV-32a of the stocks' list as the stream names them
// (a list asked otherwise resumes nothing), the latest day held of any
// stock (4 bytes, big-endian), then per stock, in the stream's order: how
// many days before that day its day is (255: nothing known), its newest
// minute as minutes of the day (2 bytes), and the low 32 bits of its
// checksum (4 bytes). A thousand stocks make an id of about 9 KiB, within
// the request header bound (MaxHeaderBytes) of the reconnect.
const (
	manyIDVersion  = 1
	manyIDHeader   = 1 + 4 + 4
	manyIDPerStock = 1 + 2 + 4
	manyIDUnknown  = 255
	manyIDSumBits  = 32
)

var manyIDEncoding = base64.RawURLEncoding

func stocksHash(stocks []string) uint32 {
	h := fnv.New32a()
	for i, s := range stocks {
		if i > 0 {
			_, _ = h.Write([]byte{','})
		}
		_, _ = h.Write([]byte(s))
	}
	return h.Sum32()
}

// appendManyID writes the id line of a stream of stocks whose clients
// hold held.
func appendManyID(b []byte, stocks []string, held []eventIDs) []byte {
	var latest domain.Day
	for _, e := range held {
		if e.any && e.day > latest {
			latest = e.day
		}
	}
	raw := make([]byte, manyIDHeader, manyIDHeader+manyIDPerStock*len(held))
	raw[0] = manyIDVersion
	binary.BigEndian.PutUint32(raw[1:], stocksHash(stocks))
	binary.BigEndian.PutUint32(raw[5:], uint32(latest))
	for _, e := range held {
		back := int(latest - e.day)
		if !e.any || e.stale || back >= manyIDUnknown || back < 0 {
			raw = append(raw, manyIDUnknown, 0, 0, 0, 0, 0, 0)
			continue
		}
		raw = append(raw, byte(back))
		raw = binary.BigEndian.AppendUint16(raw, uint16(e.newest/60))
		raw = binary.BigEndian.AppendUint32(raw, uint32(e.before))
	}
	b = append(b, "id: m"...)
	b = manyIDEncoding.AppendEncode(b, raw)
	return append(b, '\n')
}

// parseManyID reads what an id of appendManyID says the client holds of
// each of stocks: nil when it is no such id or of another list of stocks;
// an entry of no day (which no series has, as a stream holds them) for a
// stock of which nothing is known.
func parseManyID(id string, stocks []string) []heldMinutes {
	enc, ok := strings.CutPrefix(id, "m")
	if !ok || manyIDEncoding.DecodedLen(len(enc)) != manyIDHeader+manyIDPerStock*len(stocks) {
		return nil
	}
	raw, err := manyIDEncoding.DecodeString(enc)
	// The length again once decoded: the decoder skips CR and LF, so an
	// id with them decodes shorter than its length says.
	if err != nil || len(raw) != manyIDHeader+manyIDPerStock*len(stocks) ||
		raw[0] != manyIDVersion || binary.BigEndian.Uint32(raw[1:]) != stocksHash(stocks) {
		return nil
	}
	latest := domain.Day(binary.BigEndian.Uint32(raw[5:]))
	held := make([]heldMinutes, len(stocks))
	for i := range held {
		e := raw[manyIDHeader+manyIDPerStock*i:]
		minute := domain.TimeOfDay(binary.BigEndian.Uint16(e[1:])) * 60
		if e[0] == manyIDUnknown || minute >= domain.SecondsPerDay {
			held[i] = heldMinutes{day: -1}
			continue
		}
		held[i] = heldMinutes{day: latest - domain.Day(e[0]), minute: minute, sum: uint64(binary.BigEndian.Uint32(e[3:])), bits: manyIDSumBits}
	}
	return held
}
