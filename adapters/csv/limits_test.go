package csv_test

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"stockd/adapters/csv"
	"stockd/domain"
)

// hugeField is a file whose row 2 holds a field of n bytes of fill between
// before and after, made as it is read: no test keeps it in memory.
type hugeField struct {
	head, tail string
	fill       byte
	n, read    int64
}

func (h *hugeField) Read(p []byte) (int, error) {
	total := int64(len(h.head)) + h.n + int64(len(h.tail))
	if h.read >= total {
		return 0, io.EOF
	}
	i := 0
	for i < len(p) && h.read < total {
		switch pos := h.read; {
		case pos < int64(len(h.head)):
			p[i] = h.head[pos]
		case pos < int64(len(h.head))+h.n:
			p[i] = h.fill
		default:
			p[i] = h.tail[pos-int64(len(h.head))-h.n]
		}
		i++
		h.read++
	}
	return i, nil
}

// A message says what is wrong in few words, whatever the input: it quotes
// no more than 200 bytes of it.
func assertShort(t *testing.T, err error, line int, reason string, fill byte) {
	t.Helper()
	var le *csv.LineError
	if !errors.As(err, &le) || le.Line != line || !strings.Contains(err.Error(), reason) {
		t.Fatalf("error = %.300q, want p.csv:%d with %q", err, line, reason)
	}
	if msg := err.Error(); len(msg) > 300 || strings.Contains(msg, strings.Repeat(string(fill), 201)) {
		t.Fatalf("a message of %d bytes: %.400q", len(msg), msg)
	}
}

func TestLineLimit(t *testing.T) {
	t.Parallel()
	const head = "Time,Stock,Price\n90006,stock1,1\n90007,stock1,"
	// A price of leading zeros is a valid price, so a line of exactly
	// MaxLine bytes reads, and one byte more is a bad row.
	atLimit := head + strings.Repeat("0", csv.MaxLine-len("90007,stock1,")-1) + "7\n"
	got, err := scan(t, atLimit+"90008,stock1,8\n", utc)
	if err != nil || len(got) != 3 {
		t.Fatalf("a line of MaxLine bytes: %d ticks, %v", len(got), err)
	}
	_, err = scan(t, head+strings.Repeat("0", csv.MaxLine-len("90007,stock1,"))+"7\r\n", utc)
	assertShort(t, err, 3, "line longer than 64 KiB", '0')
}

func TestHugeFieldsGiveShortErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, head, tail string
		n                int64
		line             int
		reason           string
	}{
		{"20 MB price", "Time,Stock,Price\n90006,stock1,", "\n", 20 << 20, 2, "line longer than 64 KiB"},
		{"20 MB quoted field over many lines", "Time,Stock,Price\n90006,stock1,1\n90006,\"stock1", "\",5\n", 20 << 20, 3, "row longer than 64 KiB"},
		{"60 KB stock name", "Time,Stock,Price\n90006,", ",5\n", 60000, 2, "unknown stock"},
		{"60 KB time", "Time,Stock,Price\n", ",stock1,5\n", 60000, 2, "Time"},
		{"60 KB dated time", "Time,Stock,Price\n2026-03-02T09:00:00", ",stock1,5\n", 60000, 2, "Time"},
		{"60 KB price", "Time,Stock,Price\n90006,stock1,", "\n", 60000, 2, "price"},
		{"60 KB date", "Date,Time,Stock,Price\n", ",90006,stock1,5\n", 60000, 2, "Date"},
		{"60 KB header", "Time,Stock,", "\n", 60000, 1, "header"},
		{"60 KB wide column", "Time,Stock1,", "\n", 60000, 1, "unknown stock"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fill := byte('9')
			if strings.HasSuffix(tt.name, "over many lines") {
				fill = '\n'
			}
			if strings.Contains(tt.name, "name") || strings.Contains(tt.name, "header") || strings.Contains(tt.name, "column") {
				fill = 'x'
			}
			err := csv.Scan(&hugeField{head: tt.head, tail: tt.tail, fill: fill, n: tt.n}, "p.csv", stocks(t), utc, func(domain.Tick) error { return nil })
			assertShort(t, err, tt.line, tt.reason, fill)
		})
	}
}

// TestA200MBLineIsNotRead is not parallel, so that the allocation it
// counts is its own: the reader stops at the limit instead of holding the
// line (2.37 GB of RSS before the limit).
func TestA200MBLineIsNotRead(t *testing.T) {
	src := &hugeField{head: "Time,Stock,Price\n90006,stock1,", tail: "\n", fill: '1', n: 200 << 20}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := csv.Scan(src, "p.csv", stocks(t), utc, func(domain.Tick) error { return nil })
	runtime.ReadMemStats(&after)
	assertShort(t, err, 2, "line longer than 64 KiB", '1')
	if src.read > 1<<20 {
		t.Fatalf("read %d bytes of the file, want the reader to stop soon after the limit", src.read)
	}
	// Generous: a few buffers of 64 KiB, not hundreds of megabytes.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Fatalf("allocated %d bytes", alloc)
	}
	t.Logf("read %d bytes, allocated %d bytes", src.read, after.TotalAlloc-before.TotalAlloc)
}
