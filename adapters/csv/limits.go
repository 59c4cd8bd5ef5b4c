package csv

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxLine is the longest line (or row, when a quoted field spans lines) a
// file may have, newline excluded. Real rows are a few dozen bytes; the
// cap keeps a file of one endless line from taking memory without bound.
const MaxLine = 64 << 10

// maxQuoted is how much of one input value a message quotes at most, so
// that no message carries more than 200 bytes of the input.
const maxQuoted = 64

// quote quotes s for a message, cut to maxQuoted bytes (on a rune
// boundary) with its full length said when it is cut.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("... (%d bytes)", len(s))
}

// bounded returns err, which the domain built quoting value whole, with
// value quoted by quote instead when it is long. The sentinel is kept.
func bounded(err error, value string) error {
	if len(value) <= maxQuoted {
		return err
	}
	if base := errors.Unwrap(err); base != nil {
		return fmt.Errorf("%w: %s", base, quote(value))
	}
	return fmt.Errorf("bad value %s", quote(value))
}

// errLineTooLong reports a row that runs past MaxLine; Scan turns it into
// a *LineError at the row's first line.
type errLineTooLong struct {
	start, line int // the row's first line, and the line where it ran over
}

func (e *errLineTooLong) Error() string {
	if e.start == e.line {
		return fmt.Sprintf("line longer than %d KiB", MaxLine>>10)
	}
	return fmt.Sprintf("row longer than %d KiB: a quoted field opened on this line is still open at line %d", MaxLine>>10, e.line)
}
