package csv_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"stockd/adapters/csv"
	"stockd/domain"
)

// ny is a calendar in a zone away from UTC, so that a conversion shows.
var ny = func() csv.Calendar {
	zone, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return csv.Calendar{Default: day0, Zone: zone}
}()

// scan returns the ticks of text as "day time stock price", in file order.
func scan(t *testing.T, text string, cal csv.Calendar) ([]string, error) {
	t.Helper()
	var got []string
	err := csv.Scan(strings.NewReader(text), "p.csv", stocks(t), cal, func(tk domain.Tick) error {
		got = append(got, fmt.Sprintf("%s %s %s %d", tk.Day(), tk.At(), tk.Stock(), tk.Price()))
		return nil
	})
	return got, err
}

func TestRowsTakeTheirDay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		want       []string
	}{
		{"undated rows are on the default day", "Time,Stock,Price\n90006,stock1,5\n",
			[]string{"2026-03-02 090006 stock1 5"}},
		{"a Date column", "Date,Time,Stock,Price\n2026-03-03,90006,stock1,5\n2026-02-27,09:00:07,Stock2,6\n",
			[]string{"2026-03-03 090006 stock1 5", "2026-02-27 090007 stock2 6"}},
		{"an empty Date cell is the default day", "Date,Time,Stock,Price\n,90006,stock1,5\n 2026-03-04 ,90006,stock1,6\n",
			[]string{"2026-03-02 090006 stock1 5", "2026-03-04 090006 stock1 6"}},
		{"a Date column in the wide layout", "Date,Time,Stock1,Stock3\n2026-03-05,90006,5,\n2026-03-06,90007,,7\n",
			[]string{"2026-03-05 090006 stock1 5", "2026-03-06 090007 stock3 7"}},
		{"a dated Time without offset is a wall clock in APP_TIMEZONE", "Time,Stock,Price\n2026-03-03T09:00:06,stock1,5\n",
			[]string{"2026-03-03 090006 stock1 5"}},
		{"Z is converted, and the date moves back", "Time,Stock,Price\n2026-03-03T03:30:00Z,stock1,5\n",
			[]string{"2026-03-02 223000 stock1 5"}},
		{"an offset is converted", "Time,Stock,Price\n2026-03-02T00:30:00+01:00,stock1,5\n2026-03-02T21:00:00-08:00,stock2,6\n",
			[]string{"2026-03-01 183000 stock1 5", "2026-03-03 000000 stock2 6"}},
		{"daylight saving time in the zone counts", "Time,Stock,Price\n2026-07-01T13:00:00Z,stock1,5\n",
			[]string{"2026-07-01 090000 stock1 5"}},
		{"a fraction is dropped, t and z in lower case", "Time,Stock,Price\n2026-03-02t15:00:06.999z,stock1,5\n",
			[]string{"2026-03-02 100006 stock1 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := scan(t, tt.text, ny)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("ticks %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOffsetsConvertIntoTheGivenZone(t *testing.T) {
	t.Parallel()
	got, err := scan(t, "Time,Stock,Price\n2026-03-03T03:30:00Z,stock1,5\n2026-03-03T03:30:00+01:00,stock1,6\n", utc)
	if err != nil {
		t.Fatal(err)
	}
	if want := "2026-03-03 033000 stock1 5|2026-03-03 023000 stock1 6"; strings.Join(got, "|") != want {
		t.Fatalf("ticks %q, want %s", got, want)
	}
}

func TestBadDatesNameTheLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		cal        csv.Calendar
		line       int
		reason     string
	}{
		{"bad Date", "Date,Time,Stock,Price\n2026-03-02,90006,stock1,5\n2026-02-30,90006,stock1,5\n", ny, 3, "Date"},
		{"Date as digits", "Date,Time,Stock,Price\n20260302,90006,stock1,5\n", ny, 2, "YYYY-MM-DD"},
		{"date and dated time", "Date,Time,Stock,Price\n2026-03-02,2026-03-02T09:00:06,stock1,5\n", ny, 2, "give the date once"},
		{"stamp with a bad offset", "Time,Stock,Price\n2026-03-02T09:00:06+1:00,stock1,5\n", ny, 2, "Time"},
		{"stamp with a space for T", "Time,Stock,Price\n2026-03-02 09:00:06,stock1,5\n", ny, 2, "Time"},
		{"stamp with an offset past 23 hours", "Time,Stock,Price\n2026-03-02T09:00:06+24:00,stock1,5\n", ny, 2, "Time"},
		{"stamp with an empty fraction", "Time,Stock,Price\n2026-03-02T09:00:06.Z,stock1,5\n", ny, 2, "Time"},
		{"stamp out of range", "Time,Stock,Price\n2026-03-02T24:00:00Z,stock1,5\n", ny, 2, "Time"},
		{"stamp before year 1 in the zone", "Time,Stock,Price\n0001-01-01T00:30:00+01:00,stock1,5\n", utc, 2, "Time"},
		{"no default day", "Time,Stock,Price\n90006,stock1,5\n", csv.Calendar{}, 2, "no date"},
		{"bad header after Date", "Date,When,Stock,Price\n", ny, 1, "header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := scan(t, tt.text, tt.cal)
			var le *csv.LineError
			if !errors.As(err, &le) || le.Line != tt.line || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("error = %v, want p.csv:%d with %q", err, tt.line, tt.reason)
			}
		})
	}
}

// TestShippedFileIsOneDay: price_data.csv has no dates, so all of it is on
// the default day, as many ticks as rows.
func TestShippedFileIsOneDay(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile("../../price_data.csv")
	if err != nil {
		t.Fatal(err)
	}
	b, err := csv.Read(strings.NewReader(string(text)), "price_data.csv", stocks(t), ny)
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(string(text), "\n") - 1; b.Ticks() != rows {
		t.Fatalf("%d ticks, want %d", b.Ticks(), rows)
	}
	for stock, days := range b.Histories() {
		if got := days.Days(); len(got) != 1 || got[0] != day0 {
			t.Fatalf("%s on days %v, want only %s", stock, got, day0)
		}
	}
}
