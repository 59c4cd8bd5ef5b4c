package csv

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"stockd/domain"
)

// Calendar says on which trading day a row falls.
type Calendar struct {
	// Default is the day of a row that carries no date: PRICE_DATE, or
	// today in Zone when the command started. The caller decides it once,
	// so that a file read across midnight stays on one day.
	Default domain.Day
	// Zone is APP_TIMEZONE. A Time with an offset (`Z`, `+01:00`) is
	// converted into it, and may fall on another date there; a Time
	// without one is already a wall clock in Zone. Nil is UTC.
	Zone *time.Location
}

// errNoDay reports an undated row read without a default day: a caller's
// mistake, since the configuration always gives one.
var errNoDay = errors.New("the row has no date and no default day was given")

// dayAndTime reads a row's Date cell (empty when the file has no Date
// column, or the row leaves it blank) and its Time cell.
func (c *Calendar) dayAndTime(dateText, timeText []byte, last *lastDate) (domain.Day, domain.TimeOfDay, error) {
	timeText = bytes.TrimSpace(timeText)
	dateText = bytes.TrimSpace(dateText)
	if len(timeText) > 10 && (timeText[10] == 'T' || timeText[10] == 't') {
		if len(dateText) > 0 {
			return 0, 0, fmt.Errorf("a row with a Date %s and a dated Time %s: give the date once", quote(string(dateText)), quote(string(timeText)))
		}
		day, at, err := c.parseStamp(string(timeText))
		if err != nil {
			return 0, 0, &cellError{"Time", err}
		}
		return day, at, nil
	}
	at, ok := timeOfDay(timeText)
	if !ok {
		// The domain's reading decides, and says what is wrong.
		var err error
		if at, err = domain.ParseTimeOfDay(string(timeText)); err != nil {
			return 0, 0, &cellError{"Time", bounded(err, string(timeText))}
		}
	}
	if len(dateText) == 0 {
		if c.Default.IsZero() {
			return 0, 0, errNoDay
		}
		return c.Default, at, nil
	}
	day, err := last.parse(dateText)
	if err != nil {
		return 0, 0, &cellError{"Date", bounded(err, string(dateText))}
	}
	return day, at, nil
}

// cellError is what is wrong with the cell of a named column.
type cellError struct {
	column string
	err    error
}

func (e *cellError) Error() string { return e.column + ": " + e.err.Error() }
func (e *cellError) Unwrap() error { return e.err }

// lastDate remembers the last Date cell read: rows of a day come
// together, and comparing ten bytes costs less than parsing them.
type lastDate struct {
	text []byte
	day  domain.Day
}

func (l *lastDate) parse(b []byte) (domain.Day, error) {
	if len(l.text) > 0 && bytes.Equal(b, l.text) {
		return l.day, nil
	}
	day, err := domain.ParseDay(string(b))
	if err != nil {
		return 0, err
	}
	l.text, l.day = append(l.text[:0], b...), day
	return day, nil
}

// timeOfDay reads the forms of domain.ParseTimeOfDay (hmmss, hhmmss,
// hh:mm:ss) from bytes, without the copy into a string that a call of it
// would take for every row. ok is false for anything it does not accept;
// the caller then asks the domain, whose reading decides
// (FuzzTimeOfDayAgreesWithTheDomain holds the two together).
func timeOfDay(b []byte) (domain.TimeOfDay, bool) {
	var h, m, s int
	switch len(b) {
	case 5:
		h, m, s = digit(b[0]), digitPair(b[1], b[2]), digitPair(b[3], b[4])
	case 6:
		h, m, s = digitPair(b[0], b[1]), digitPair(b[2], b[3]), digitPair(b[4], b[5])
	case 8:
		if b[2] != ':' || b[5] != ':' {
			return 0, false
		}
		h, m, s = digitPair(b[0], b[1]), digitPair(b[3], b[4]), digitPair(b[6], b[7])
	default:
		return 0, false
	}
	if h < 0 || m < 0 || s < 0 || h > 23 || m > 59 || s > 59 {
		return 0, false
	}
	return domain.TimeOfDay(h*3600 + m*60 + s), true
}

func digit(a byte) int {
	if a < '0' || a > '9' {
		return -1
	}
	return int(a - '0')
}

// digitPair is the number of two decimal digits, or -1.
func digitPair(a, b byte) int {
	if a < '0' || a > '9' || b < '0' || b > '9' {
		return -1
	}
	return int(a-'0')*10 + int(b-'0')
}

// errBadStamp reports a Time that starts as a timestamp and is not one.
var errBadStamp = errors.New("a dated time must be YYYY-MM-DDThh:mm:ss with an optional fraction and Z or ±hh:mm")

// parseStamp reads YYYY-MM-DDThh:mm:ss[.fraction][Z|±hh:mm] (RFC 3339,
// the offset optional). A fraction is dropped: ticks have whole seconds.
// Without an offset the clock is read in c.Zone as written; with one, the
// instant is converted into c.Zone.
func (c *Calendar) parseStamp(s string) (domain.Day, domain.TimeOfDay, error) {
	bad := func() (domain.Day, domain.TimeOfDay, error) {
		return 0, 0, fmt.Errorf("%w: %s", errBadStamp, quote(s))
	}
	if len(s) < 19 {
		return bad()
	}
	day, err := domain.ParseDay(s[:10])
	if err != nil {
		return bad()
	}
	at, err := domain.ParseTimeOfDay(s[11:19])
	if err != nil {
		return bad()
	}
	rest := s[19:]
	if len(rest) > 1 && rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return bad()
		}
		rest = rest[i:]
	}
	var offset int
	switch {
	case rest == "":
		return day, at, nil
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, okh := twoDigits(rest[1:3])
		m, okm := twoDigits(rest[4:6])
		if !okh || !okm || h > 23 || m > 59 {
			return bad()
		}
		offset = h*3600 + m*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return bad()
	}
	zone := c.Zone
	if zone == nil {
		zone = time.UTC
	}
	y, mo, d := day.Date()
	local := time.Date(y, mo, d, 0, 0, int(at)-offset, 0, time.UTC).In(zone)
	h, m, sec := local.Clock()
	// A date before year 1 or after 9999 is no trading day.
	if _, err := domain.NewDay(local.Date()); err != nil {
		return bad()
	}
	return domain.DayOf(local), domain.TimeOfDay(h*3600 + m*60 + sec), nil
}

func twoDigits(s string) (int, bool) {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}
