package pricefeed

import (
	"strconv"

	"stockd/domain"
)

// Minute is the JSON of one changed minute of a day, as the stream's
// minute event carries it and the Redis feed's message lists it: the
// decoders read this shape, and AppendMinute writes it.
type Minute struct {
	Date  string `json:"date"`
	Time  string `json:"time"`
	Price int64  `json:"price"`
	Open  int64  `json:"open"`
	High  int64  `json:"high"`
	Low   int64  `json:"low"`
}

// AppendMinute appends minute m of day to b as the JSON object of Minute,
// byte for byte what encoding/json writes of it (TestAppendMinuteIsJSON),
// by hand: it runs for every minute of every change, a whole day's write
// changes 1440 of them, and a stream writes each change to every watcher.
func AppendMinute(b []byte, day domain.Day, m domain.MinuteCandle) []byte {
	return appendMinuteFields(append(b, '{'), day, m)
}

// appendMinuteFields appends the members of a minute's object and its
// closing brace: the part AppendMinute and AppendStockMinute share.
func appendMinuteFields(b []byte, day domain.Day, m domain.MinuteCandle) []byte {
	b = append(b, `"date":"`...)
	b = day.AppendTo(b)
	b = append(b, `","time":"`...)
	b = m.Minute.AppendDigits(b)
	b = append(b, `","price":`...)
	b = strconv.AppendInt(b, m.Close, 10)
	b = append(b, `,"open":`...)
	b = strconv.AppendInt(b, m.Open, 10)
	b = append(b, `,"high":`...)
	b = strconv.AppendInt(b, m.High, 10)
	b = append(b, `,"low":`...)
	b = strconv.AppendInt(b, m.Low, 10)
	return append(b, '}')
}

// AppendStockMinute appends minute m of day of stock as AppendMinute does,
// with the stock first ({"stock":...,"date":...}), for a stream of many
// stocks. A stock name needs no escaping (domain.ValidateStockName).
func AppendStockMinute(b []byte, stock string, day domain.Day, m domain.MinuteCandle) []byte {
	b = append(b, `{"stock":"`...)
	b = append(b, stock...)
	b = append(b, `",`...)
	return appendMinuteFields(b, day, m)
}

// Candle is the domain's minute of m; its day is the caller's to read.
func (m Minute) Candle() (domain.MinuteCandle, error) {
	at, err := domain.ParseTimeOfDay(m.Time)
	if err != nil {
		return domain.MinuteCandle{}, err
	}
	return domain.MinuteCandle{Minute: at, Open: m.Open, High: m.High, Low: m.Low, Close: m.Price}, nil
}
