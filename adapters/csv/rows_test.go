package csv

import (
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"stockd/domain"
)

// FuzzRowsAgreeWithEncodingCSV holds rows to encoding/csv (strict quotes,
// any number of fields): the same rows from the same lines, and an error
// where it finds one. Past MaxLine rows refuses what encoding/csv reads.
func FuzzRowsAgreeWithEncodingCSV(f *testing.F) {
	for _, seed := range []string{
		"Time,Stock,Price\n90006,stock1,5\n",
		"a,b\r\n\r\nc,d\r",
		"\"a,b\",\"c\"\"d\"\n\"e\nf\",g\n",
		"a,\"b\nc\"\n\n\nd\n",
		"a,\"b\"x\n",
		"a,b\"c\n",
		"\"open\n\nstill open",
		"\"\"\n,\n\"\",\"\"\r\n",
		"x\r\ry\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		want := csv.NewReader(strings.NewReader(text))
		want.FieldsPerRecord = -1
		got := newRows(strings.NewReader(text))
		for {
			wrow, werr := want.Read()
			grow, gerr := got.next()
			if werr != nil || gerr != nil {
				if errors.Is(werr, io.EOF) != errors.Is(gerr, io.EOF) || (werr == nil) != (gerr == nil) {
					t.Fatalf("encoding/csv: %v, rows: %v", werr, gerr)
				}
				var pe *csv.ParseError
				var re *rowError
				if errors.As(werr, &pe) && errors.As(gerr, &re) {
					if !errors.Is(re.err, pe.Err) || re.start != pe.StartLine || re.line != pe.Line {
						t.Fatalf("encoding/csv: %v (from line %d), rows: %v at line %d from %d", werr, pe.StartLine, gerr, re.line, re.start)
					}
				}
				return
			}
			var grows []string
			for _, f := range grow {
				grows = append(grows, string(f))
			}
			if !slices.Equal(wrow, grows) {
				t.Fatalf("row %q, want %q", grow, wrow)
			}
			if line, _ := want.FieldPos(0); line != got.start {
				t.Fatalf("row %q from line %d, want %d", grow, got.start, line)
			}
		}
	})
}

// FuzzTimeOfDayAgreesWithTheDomain: what the byte reader of times accepts,
// domain.ParseTimeOfDay accepts as the same time (and what it refuses goes
// to the domain anyway).
func FuzzTimeOfDayAgreesWithTheDomain(f *testing.F) {
	for _, s := range []string{"90006", "090006", "09:00:06", "235959", "240000", "9:0:06", "0900061", "-90006", "09 00 06", "99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := timeOfDay([]byte(s))
		want, err := domain.ParseTimeOfDay(s)
		if ok && (err != nil || got != want) {
			t.Fatalf("%q: bytes read %v, the domain %v, %v", s, got, want, err)
		}
		if !ok && err == nil {
			t.Fatalf("%q: the domain reads %v, the bytes reader refuses it", s, want)
		}
	})
}
