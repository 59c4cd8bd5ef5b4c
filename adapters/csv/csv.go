// Package csv reads price ticks from CSV files in either layout of the
// contract: long (Time,Stock,Price, one tick a row) or the original
// exercise's wide one (Time,Stock1,Stock2,..., one column a stock, an empty
// cell where a stock had no tick). Either may start with a Date column, and
// a Time may be a dated timestamp; other rows are on a default day (see
// Calendar).
package csv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"stockd/domain"
	"stockd/ports"
)

// LineError locates a bad row: File:Line: Reason, lines counted from 1 with
// the header as line 1.
type LineError struct {
	File   string
	Line   int
	Reason string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// Scan reads every tick of r in file order and hands each to each. It stops
// at the first bad row with a *LineError, or at the first error of each,
// which it returns as is. A row's day is its Date cell, or the date of a
// dated Time, or else cal.Default.
// Memory does not grow with the number of rows, nor beyond MaxLine with
// the length of one.
func Scan(r io.Reader, name string, stocks domain.Stocks, cal Calendar, each func(domain.Tick) error) error {
	rr := newRows(r)
	lineErr := func(line int, format string, args ...any) error {
		return &LineError{File: name, Line: line, Reason: fmt.Sprintf(format, args...)}
	}

	fields, err := rr.next()
	header := make([]string, len(fields))
	for i, f := range fields {
		header[i] = string(f)
	}
	if errors.Is(err, io.EOF) {
		return lineErr(1, "empty file: want the header Time,Stock,Price")
	}
	if err != nil {
		return csvError(name, err)
	}
	lay, err := parseHeader(header, stocks)
	if err != nil {
		return lineErr(1, "%v", err)
	}

	// Stock names as written by the configuration, looked up without
	// copying the field; anything else (Stock1, " stock1") goes through
	// Canonical.
	exact := make(map[string]string)
	for _, n := range stocks.Names() {
		exact[n] = n
	}
	var last lastDate
	for {
		row, err := rr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return csvError(name, err)
		}
		line := rr.start
		if len(row) != len(header) {
			return lineErr(line, "%d fields, want %d like the header", len(row), len(header))
		}
		var dateText []byte
		if lay.date {
			dateText, row = row[0], row[1:]
		}
		day, at, err := cal.dayAndTime(dateText, row[0], &last)
		if err != nil {
			return lineErr(line, "%v", err)
		}
		if lay.columns == nil { // long layout: [Date,]Time,Stock,Price
			stock, ok := exact[string(row[1])]
			if !ok {
				if stock, err = stocks.Canonical(string(row[1])); err != nil {
					return lineErr(line, "Stock: %v", bounded(err, string(row[1])))
				}
			}
			t, err := tick(stock, day, at, row[2])
			if err != nil {
				return lineErr(line, "%v", err)
			}
			if err := each(t); err != nil {
				return err
			}
			continue
		}
		for i, stock := range lay.columns {
			cell := row[i+1]
			if len(bytes.TrimSpace(cell)) == 0 {
				continue
			}
			t, err := tick(stock, day, at, cell)
			if err != nil {
				return lineErr(line, "%s: %v", stock, err)
			}
			if err := each(t); err != nil {
				return err
			}
		}
	}
}

func tick(stock string, day domain.Day, at domain.TimeOfDay, priceText []byte) (domain.Tick, error) {
	price, err := parsePrice(bytes.TrimSpace(priceText))
	if err != nil {
		return domain.Tick{}, err
	}
	return domain.NewTick(stock, day, at, price)
}

// layout is what a header says of the rows.
type layout struct {
	date    bool     // a Date column comes first
	columns []string // nil for the long layout, else the stock of each column after Time
}

// parseHeader reads [Date,]Time,Stock,Price (long) or
// [Date,]Time,<stock>[,<stock>...] (wide).
func parseHeader(header []string, stocks domain.Stocks) (layout, error) {
	var lay layout
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	}
	shown := quote(strings.Join(header, ","))
	if len(names) > 0 && names[0] == "date" {
		lay.date, names = true, names[1:]
	}
	if len(names) < 2 || names[0] != "time" {
		return lay, fmt.Errorf("header %s: want [Date,]Time,Stock,Price or [Date,]Time,<stock>[,<stock>]", shown)
	}
	if names[1] == "stock" {
		if len(names) != 3 || names[2] != "price" {
			return lay, fmt.Errorf("header %s: want [Date,]Time,Stock,Price", shown)
		}
		return lay, nil
	}
	lay.columns = make([]string, 0, len(names)-1)
	seen := make(map[string]bool)
	for _, n := range names[1:] {
		stock, err := stocks.Canonical(n)
		if err != nil {
			return lay, fmt.Errorf("header: %w", bounded(err, n))
		}
		if seen[stock] {
			return lay, fmt.Errorf("header: stock %q has two columns", stock)
		}
		seen[stock] = true
		lay.columns = append(lay.columns, stock)
	}
	return lay, nil
}

// parsePrice accepts digits only: no sign, no fraction, no exponent.
func parsePrice(s []byte) (int64, error) {
	if len(s) == 0 {
		return 0, fmt.Errorf("%w: empty", domain.ErrBadPrice)
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %s", domain.ErrBadPrice, quote(string(s)))
		}
		if n > (1<<63-1-int64(c-'0'))/10 {
			return 0, fmt.Errorf("%w: %s is too large", domain.ErrBadPrice, quote(string(s)))
		}
		n = n*10 + int64(c-'0')
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: %s", domain.ErrBadPrice, quote(string(s)))
	}
	return n, nil
}

func csvError(name string, err error) error {
	var long *errLineTooLong
	if errors.As(err, &long) {
		return &LineError{File: name, Line: long.start, Reason: long.Error()}
	}
	var re *rowError
	if errors.As(err, &re) {
		// A quote left open runs on to the end of the file, where the
		// reader notices it: the line to fix is where the row starts.
		if errors.Is(re.err, errQuote) && re.start != re.line {
			return &LineError{File: name, Line: re.start,
				Reason: fmt.Sprintf("%v: the quoted field starts here and is still open at line %d", re.err, re.line)}
		}
		return &LineError{File: name, Line: re.line, Reason: re.err.Error()}
	}
	return fmt.Errorf("read %s: %w", name, err)
}

// Read folds the whole of r into one batch. Nothing is returned unless
// every row is good, so a bad row changes nothing downstream.
func Read(r io.Reader, name string, stocks domain.Stocks, cal Calendar) (*domain.TickBatch, error) {
	batch := domain.NewTickBatch()
	err := Scan(r, name, stocks, cal, func(t domain.Tick) error {
		batch.Add(t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return batch, nil
}

// ReadFile is Read on the file at path.
func ReadFile(path string, stocks domain.Stocks, cal Calendar) (*domain.TickBatch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path, stocks, cal)
}

var _ ports.PriceSource = (*Source)(nil)

// Source is one file: a price source that applies it whole, as one batch,
// and a tick scanner that streams it.
type Source struct {
	path   string
	stocks domain.Stocks
	cal    Calendar
}

// NewSource returns a source reading path, its rows dated by cal.
func NewSource(path string, stocks domain.Stocks, cal Calendar) *Source {
	return &Source{path: path, stocks: stocks, cal: cal}
}

// Run validates the whole file, then applies it as one batch.
func (s *Source) Run(ctx context.Context, apply ports.ApplyBatch) error {
	batch, err := ReadFile(s.path, s.stocks, s.cal)
	if err != nil {
		return err
	}
	return apply(ctx, batch)
}

// ScanTicks streams the file's ticks to each, in file order, stopping at
// the first bad row or when ctx ends.
func (s *Source) ScanTicks(ctx context.Context, each func(domain.Tick) error) error {
	f, err := os.Open(s.path)
	if err != nil {
		return err
	}
	defer f.Close()
	return Scan(f, s.path, s.stocks, s.cal, func(t domain.Tick) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return each(t)
	})
}
