package csv_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"stockd/adapters/csv"
	"stockd/domain"
	"stockd/internal/domaintest"
)

func stocks(t testing.TB) domain.Stocks {
	t.Helper()
	s, err := domain.NewStocks([]string{"stock1", "stock2", "stock3"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// day0 is the default day of the tests' files.
var day0 = domaintest.Day("2026-03-02")

var utc = csv.Calendar{Default: day0, Zone: time.UTC}

type series struct {
	times  []string
	prices []int64
}

func read(t *testing.T, text string) map[string]series {
	t.Helper()
	b, err := csv.Read(strings.NewReader(text), "p.csv", stocks(t), utc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]series{}
	for stock, days := range b.Histories() {
		if len(days) != 1 || days[day0] == nil {
			t.Fatalf("%s: days %v, want only the default day", stock, days.Days())
		}
		s := days[day0].Series()
		var times []string
		for _, m := range s.Minutes() {
			times = append(times, m.String())
		}
		out[stock] = series{times, s.Closes()}
	}
	return out
}

func TestReadLayoutsAgree(t *testing.T) {
	t.Parallel()
	long := "Time,Stock,Price\n90006,stock3,1734\n90041,Stock1,1008\n090031,stock1,1041\n09:01:54,STOCK1,1054\n90320,stock3,1700\n"
	wide := "Time,Stock1,Stock2,Stock3\n90006,,,1734\n90041,1008,,\n090031,1041,,\n09:01:54,1054,,\n90320,,,1700\n"
	want := map[string]series{
		"stock1": {[]string{"090000", "090100"}, []int64{1008, 1054}},
		"stock3": {[]string{"090000", "090100", "090200", "090300"}, []int64{1734, 1734, 1734, 1700}},
	}
	for name, text := range map[string]string{"long": long, "wide": wide, "crlf": strings.ReplaceAll(long, "\n", "\r\n"), "bom": "\ufeff" + long} {
		got := read(t, text)
		if len(got) != len(want) {
			t.Fatalf("%s: stocks %v, want %v", name, got, want)
		}
		for stock, w := range want {
			if !slices.Equal(got[stock].times, w.times) || !slices.Equal(got[stock].prices, w.prices) {
				t.Errorf("%s: %s = %v, want %v", name, stock, got[stock], w)
			}
		}
	}
}

func TestReadErrorsNameFileAndLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		line       int
		reason     string
	}{
		{"empty file", "", 1, "empty file"},
		{"bad header", "When,Stock,Price\n", 1, "header"},
		{"long header with extra column", "Time,Stock,Price,Extra\n", 1, "header"},
		{"wide header unknown stock", "Time,Stock1,Stock9\n", 1, "unknown stock"},
		{"wide header duplicate stock", "Time,Stock1,stock1\n", 1, "two columns"},
		{"unknown stock", "Time,Stock,Price\n90006,stock1,1\n90007,stock9,2\n", 3, "unknown stock"},
		{"bad time", "Time,Stock,Price\n9006,stock1,1\n", 2, "Time"},
		{"time out of range", "Time,Stock,Price\n250000,stock1,1\n", 2, "out of range"},
		{"zero price", "Time,Stock,Price\n90006,stock1,0\n", 2, "price"},
		{"negative price", "Time,Stock,Price\n90006,stock1,-5\n", 2, "price"},
		{"fraction", "Time,Stock,Price\n90006,stock1,1.5\n", 2, "price"},
		{"price beyond int64", "Time,Stock,Price\n90006,stock1,9223372036854775808\n", 2, "too large"},
		{"short row", "Time,Stock,Price\n90006,stock1\n", 2, "2 fields"},
		{"bad quote", "Time,Stock,Price\n90006,\"stock1,1\n", 2, "quote"},
		{"wide bad cell", "Time,Stock1,Stock2\n90006,1,x\n", 2, "Stock2"},
		// The quote opened on line 152 runs to the end of the file (line
		// 302): the line to fix is where the field starts.
		{"unterminated quote", "Time,Stock,Price\n" + strings.Repeat("90006,stock1,1\n", 150) + "90006,\"stock1,1\n" +
			strings.Repeat("90006,stock1,1\n", 150), 152, "quoted field starts here"},
		{"extraneous quote", "Time,Stock,Price\n90006,stock1,1\n90006,\"stock1\"x,1\n", 3, "quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := csv.Read(strings.NewReader(tt.text), "p.csv", stocks(t), utc)
			var le *csv.LineError
			if !errors.As(err, &le) {
				t.Fatalf("error = %v, want a *LineError", err)
			}
			if le.File != "p.csv" || le.Line != tt.line || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.reason)) {
				t.Fatalf("error = %q, want p.csv:%d with %q", err, tt.line, tt.reason)
			}
			if !strings.HasPrefix(err.Error(), "p.csv:") {
				t.Fatalf("error %q does not start with file:line", err)
			}
		})
	}
}

func TestSourceAppliesNothingOnABadRow(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "p.csv")
	if err := os.WriteFile(path, []byte("Time,Stock,Price\n90006,stock1,1\n90007,stock1,x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	applied := false
	err := csv.NewSource(path, stocks(t), utc).Run(t.Context(), func(_ context.Context, _ *domain.TickBatch) error {
		applied = true
		return nil
	})
	if err == nil || applied {
		t.Fatalf("Run = %v, applied = %v; want an error and nothing applied", err, applied)
	}
	if !strings.HasPrefix(err.Error(), path+":3: ") {
		t.Fatalf("error = %q, want %s:3: ...", err, path)
	}
}

func TestScanTicksStreamsInFileOrder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "p.csv")
	if err := os.WriteFile(path, []byte("Time,Stock,Price\n90007,stock2,2\n90006,Stock1,1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := csv.NewSource(path, stocks(t), utc).ScanTicks(t.Context(), func(tk domain.Tick) error {
		got = append(got, tk.Stock()+"@"+tk.At().String())
		return nil
	})
	if err != nil || !slices.Equal(got, []string{"stock2@090007", "stock1@090006"}) {
		t.Fatalf("ScanTicks = %v, %v", got, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := csv.NewSource(path, stocks(t), utc).ScanTicks(ctx, func(domain.Tick) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("ScanTicks on a cancelled context = %v", err)
	}
}

func TestSourceMissingFile(t *testing.T) {
	t.Parallel()
	err := csv.NewSource(filepath.Join(t.TempDir(), "none.csv"), stocks(t), utc).Run(t.Context(), func(context.Context, *domain.TickBatch) error { return nil })
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("error = %v, want not exist", err)
	}
}

// FuzzRead checks that no input panics, that every error names a line, and
// that a file read without error gives series with positive prices.
func FuzzRead(f *testing.F) {
	f.Add("Time,Stock,Price\n90006,stock3,1734\n90010,stock2,448\n")
	f.Add("Time,Stock1,Stock2,Stock3\n90006,,,1734\n90041,1008,,\n")
	f.Add("Time,Stock,Price\n\"9:00\",stock1,1\n")
	f.Add("time,stock,price\r\n09:00:06,STOCK1,0001\r\n")
	f.Add("Date,Time,Stock,Price\n2026-03-02,90006,stock1,5\n,090007,stock2,6\n")
	f.Add("Date,Time,Stock1,Stock2\n2026-03-03,09:00:06,5,\n")
	f.Add("Time,Stock,Price\n2026-03-02T09:00:06Z,stock1,5\n2026-03-02t23:59:59.5-05:00,stock2,6\n2026-03-02T09:00:06,stock3,7\n")
	f.Add("Time,Stock,Price\n0001-01-01T00:00:00+01:00,stock1,5\n")
	s := stocks(f)
	f.Fuzz(func(t *testing.T, text string) {
		b, err := csv.Read(strings.NewReader(text), "f.csv", s, ny)
		if err != nil {
			var le *csv.LineError
			if !errors.As(err, &le) || le.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			// Whatever the input, a message stays short (it quotes
			// little of it).
			if len(le.Reason) > 400 {
				t.Fatalf("reason of %d bytes: %.500q", len(le.Reason), le.Reason)
			}
			return
		}
		for _, days := range b.Histories() {
			for day, h := range days {
				if _, err := domain.NewDay(day.Date()); err != nil {
					t.Fatalf("day %d: %v", day, err)
				}
				for _, p := range h.Series().Closes() {
					if p <= 0 {
						t.Fatalf("price %d", p)
					}
				}
			}
		}
	})
}

func BenchmarkRead(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("Time,Stock,Price\n")
	for i := range 100000 {
		fmt.Fprintf(&sb, "%d,stock%d,%d\n", 90000+i%5959/100*100+i%60, 1+i%3, 1+i%3000)
	}
	text := sb.String()
	s := stocks(b)
	b.SetBytes(int64(len(text)))
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := csv.Read(strings.NewReader(text), "b.csv", s, utc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(100000*b.N)/b.Elapsed().Seconds(), "ticks/s")
	b.ReportMetric(float64(100000*b.N)/(cpuTime()-cpu0), "ticks/cpu-s")
}
