// Package csv reads price ticks from CSV files in either layout of the
// contract: long (Time,Stock,Price, one tick a row) or the original
// exercise's wide one (Time,Stock1,Stock2,..., one column a stock, an empty
// cell where a stock had no tick).
package csv

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
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
// which it returns as is.
// Memory does not grow with the number of rows.
func Scan(r io.Reader, name string, stocks domain.Stocks, each func(domain.Tick) error) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.FieldsPerRecord = -1 // counted below, for a message that says what is wrong
	cr.ReuseRecord = true
	lineErr := func(line int, format string, args ...any) error {
		return &LineError{File: name, Line: line, Reason: fmt.Sprintf(format, args...)}
	}

	header, err := cr.Read()
	header = slices.Clone(header) // ReuseRecord would overwrite it
	if errors.Is(err, io.EOF) {
		return lineErr(1, "empty file: want the header Time,Stock,Price")
	}
	if err != nil {
		return csvError(name, err)
	}
	columns, err := parseHeader(header, stocks)
	if err != nil {
		return lineErr(1, "%v", err)
	}

	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(row) != len(header) {
			return lineErr(line, "%d fields, want %d like the header", len(row), len(header))
		}
		at, err := domain.ParseTimeOfDay(strings.TrimSpace(row[0]))
		if err != nil {
			return lineErr(line, "Time: %v", err)
		}
		if columns == nil { // long layout: Time,Stock,Price
			stock, err := stocks.Canonical(row[1])
			if err != nil {
				return lineErr(line, "Stock: %v", err)
			}
			t, err := tick(stock, at, row[2])
			if err != nil {
				return lineErr(line, "%v", err)
			}
			if err := each(t); err != nil {
				return err
			}
			continue
		}
		for i, stock := range columns {
			cell := row[i+1]
			if strings.TrimSpace(cell) == "" {
				continue
			}
			t, err := tick(stock, at, cell)
			if err != nil {
				return lineErr(line, "%s: %v", header[i+1], err)
			}
			if err := each(t); err != nil {
				return err
			}
		}
	}
}

func tick(stock string, at domain.TimeOfDay, priceText string) (domain.Tick, error) {
	price, err := parsePrice(strings.TrimSpace(priceText))
	if err != nil {
		return domain.Tick{}, err
	}
	return domain.NewTick(stock, at, price)
}

// parseHeader returns nil for the long layout, or the stock of each column
// after Time for the wide one.
func parseHeader(header []string, stocks domain.Stocks) ([]string, error) {
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	}
	if len(names) < 2 || names[0] != "time" {
		return nil, fmt.Errorf("header %q: want Time,Stock,Price or Time,<stock>[,<stock>]", strings.Join(header, ","))
	}
	if names[1] == "stock" {
		if len(names) != 3 || names[2] != "price" {
			return nil, fmt.Errorf("header %q: want Time,Stock,Price", strings.Join(header, ","))
		}
		return nil, nil
	}
	columns := make([]string, 0, len(names)-1)
	seen := make(map[string]bool)
	for _, n := range names[1:] {
		stock, err := stocks.Canonical(n)
		if err != nil {
			return nil, fmt.Errorf("header: %v", err)
		}
		if seen[stock] {
			return nil, fmt.Errorf("header: stock %q has two columns", stock)
		}
		seen[stock] = true
		columns = append(columns, stock)
	}
	return columns, nil
}

// parsePrice accepts digits only: no sign, no fraction, no exponent.
func parsePrice(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty", domain.ErrBadPrice)
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %q", domain.ErrBadPrice, s)
		}
		if n > (1<<63-1-int64(c-'0'))/10 {
			return 0, fmt.Errorf("%w: %q is too large", domain.ErrBadPrice, s)
		}
		n = n*10 + int64(c-'0')
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: %q", domain.ErrBadPrice, s)
	}
	return n, nil
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		// A quote left open runs on to the end of the file, where the
		// reader notices it: the line to fix is where the field starts.
		if errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line {
			return &LineError{File: name, Line: pe.StartLine,
				Reason: fmt.Sprintf("%v: the quoted field starts here and is still open at line %d", pe.Err, pe.Line)}
		}
		return &LineError{File: name, Line: pe.Line, Reason: pe.Err.Error()}
	}
	return fmt.Errorf("read %s: %w", name, err)
}

// Read folds the whole of r into one batch. Nothing is returned unless
// every row is good, so a bad row changes nothing downstream.
func Read(r io.Reader, name string, stocks domain.Stocks) (*domain.TickBatch, error) {
	batch := domain.NewTickBatch()
	err := Scan(r, name, stocks, func(t domain.Tick) error {
		batch.Add(t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return batch, nil
}

// ReadFile is Read on the file at path.
func ReadFile(path string, stocks domain.Stocks) (*domain.TickBatch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path, stocks)
}

var (
	_ ports.PriceSource = (*Source)(nil)
	_ ports.TickScanner = (*Source)(nil)
)

// Source is one file: a price source that applies it whole, as one batch,
// and a tick scanner that streams it.
type Source struct {
	path   string
	stocks domain.Stocks
}

// NewSource returns a source reading path.
func NewSource(path string, stocks domain.Stocks) *Source {
	return &Source{path: path, stocks: stocks}
}

// Run validates the whole file, then applies it as one batch.
func (s *Source) Run(ctx context.Context, apply ports.ApplyBatch) error {
	batch, err := ReadFile(s.path, s.stocks)
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
	return Scan(f, s.path, s.stocks, func(t domain.Tick) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return each(t)
	})
}
