package domain

import (
	"errors"
	"fmt"
)

// TimeOfDay is a time of day with one-second resolution, counted in seconds
// since midnight. A tick carries its trading day apart (see Day).
type TimeOfDay int32

// SecondsPerDay bounds every TimeOfDay: valid values are 0..SecondsPerDay-1.
const SecondsPerDay = 24 * 60 * 60

// ErrBadTime reports a time of day that is not hmmss, hhmmss or hh:mm:ss.
var ErrBadTime = errors.New("time of day must be hmmss, hhmmss or hh:mm:ss")

// ParseTimeOfDay reads "90006", "090006" or "09:00:06". It allocates nothing,
// because the CSV and Kafka paths call it once per tick.
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	var h, m, sec int
	var ok bool
	switch len(s) {
	case 5:
		h, ok = digits(s[0:1])
		if ok {
			m, ok = digits(s[1:3])
		}
		if ok {
			sec, ok = digits(s[3:5])
		}
	case 6:
		h, ok = digits(s[0:2])
		if ok {
			m, ok = digits(s[2:4])
		}
		if ok {
			sec, ok = digits(s[4:6])
		}
	case 8:
		ok = s[2] == ':' && s[5] == ':'
		if ok {
			h, ok = digits(s[0:2])
		}
		if ok {
			m, ok = digits(s[3:5])
		}
		if ok {
			sec, ok = digits(s[6:8])
		}
	}
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrBadTime, s)
	}
	if h > 23 || m > 59 || sec > 59 {
		return 0, fmt.Errorf("%w: %q is out of range", ErrBadTime, s)
	}
	return TimeOfDay(h*3600 + m*60 + sec), nil
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Minute returns the start of the minute that holds t.
func (t TimeOfDay) Minute() TimeOfDay { return t - t%60 }

// String formats t as six digits, hhmmss, the format of the stored series.
func (t TimeOfDay) String() string {
	var b [6]byte
	return string(t.AppendDigits(b[:0]))
}

// AppendDigits appends t as hhmmss to b.
func (t TimeOfDay) AppendDigits(b []byte) []byte {
	h, m, s := int(t)/3600, int(t)/60%60, int(t)%60
	return append(b, byte('0'+h/10), byte('0'+h%10), byte('0'+m/10), byte('0'+m%10), byte('0'+s/10), byte('0'+s%10))
}
