package csv

import (
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
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
			if !slices.Equal(wrow, grow) {
				t.Fatalf("row %q, want %q", grow, wrow)
			}
			if line, _ := want.FieldPos(0); line != got.start {
				t.Fatalf("row %q from line %d, want %d", grow, got.start, line)
			}
		}
	})
}
