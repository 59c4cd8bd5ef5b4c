// Command pricegen writes deterministic price ticks in the long CSV layout
// (Time,Stock,Price). With no flags it writes the project's own
// price_data.csv: three stocks from 09:00:00 to 09:59:47, a few hundred
// ticks, a few minutes without a tick for each stock. Its flags make the
// large files the benchmarks use.
//
// With -date it writes a Date column (Date,Time,Stock,Price), and with
// -days the ticks spread over that many days from -date.
//
//	go run ./cmd/pricegen -o price_data.csv
//	go run ./cmd/pricegen -stocks 50 -ticks 1000000 -start 000000 -end 235959 -o big.csv
//	go run ./cmd/pricegen -stocks 50 -ticks 10000000 -date 2026-03-02 -days 20 -o days.csv
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"

	"stockd/domain"
)

// Spec says what to generate.
type Spec struct {
	Stocks     int
	Ticks      int
	Start, End domain.TimeOfDay
	Gaps       int // minutes without a tick, per stock
	Seed       uint64
	// First is the first day of a file with a Date column; zero writes
	// none (the rows are then on the reader's default day).
	First domain.Day
	// Days is how many days from First the ticks spread over, Ticks/Days
	// each, from Start to End every day; 0 is 1.
	Days int
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "pricegen: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("pricegen", flag.ContinueOnError)
	stocks := fs.Int("stocks", 3, "number of stocks (stock1..stockN)")
	ticks := fs.Int("ticks", 510, "number of ticks")
	start := fs.String("start", "090000", "first tick time, hhmmss")
	end := fs.String("end", "095947", "last tick time, hhmmss")
	gaps := fs.Int("gaps", 3, "minutes without a tick, per stock")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same file")
	date := fs.String("date", "", "first day, YYYY-MM-DD: write a Date column (none when empty)")
	days := fs.Int("days", 1, "number of days from -date, each from -start to -end")
	out := fs.String("o", "-", "output file, - for standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	spec := Spec{Stocks: *stocks, Ticks: *ticks, Gaps: *gaps, Seed: *seed, Days: *days}
	var err error
	if *date != "" {
		if spec.First, err = domain.ParseDay(*date); err != nil {
			return fmt.Errorf("-date: %w", err)
		}
	}
	if spec.Start, err = domain.ParseTimeOfDay(*start); err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	if spec.End, err = domain.ParseTimeOfDay(*end); err != nil {
		return fmt.Errorf("-end: %w", err)
	}
	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return Generate(w, spec)
}

// Generate writes the ticks of spec to w, sorted by day and time.
func Generate(w io.Writer, s Spec) error {
	s.Days = max(s.Days, 1)
	perDay := s.Ticks / s.Days
	if s.Stocks < 1 || perDay < 2*s.Stocks || s.End <= s.Start || s.Gaps < 0 {
		return errors.New("want at least one stock, two ticks per stock and day, end after start, gaps >= 0")
	}
	if s.First.IsZero() && s.Days > 1 {
		return errors.New("several days need a first day (-date)")
	}
	r := rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))
	firstMin, lastMin := int(s.Start)/60, int(s.End)/60
	// Gap minutes lie strictly inside the span, so that every stock's
	// series still runs from the first minute to the last.
	gap := make([]map[int]bool, s.Stocks)
	for i := range gap {
		gap[i] = map[int]bool{}
		for inner := lastMin - firstMin - 1; len(gap[i]) < min(s.Gaps, inner); {
			gap[i][firstMin+1+r.IntN(inner)] = true
		}
	}
	price := make([]int64, s.Stocks)
	for i := range price {
		price[i] = 100 + r.Int64N(2000)
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	if s.First.IsZero() {
		bw.WriteString("Time,Stock,Price\n")
	} else {
		bw.WriteString("Date,Time,Stock,Price\n")
	}
	for d := range s.Days {
		var day domain.Day
		if !s.First.IsZero() {
			day = s.First.AddDays(d)
		}
		if err := writeDay(bw, s, r, gap, price, day, perDay); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeDay writes n ticks of one day (without a Date cell when day is
// zero), carrying prices on from the day before.
func writeDay(bw *bufio.Writer, s Spec, r *rand.Rand, gap []map[int]bool, price []int64, day domain.Day, n int) error {
	span := int64(s.End - s.Start)
	var line []byte
	for i := range n {
		at := s.Start + domain.TimeOfDay(int64(i)*span/int64(n-1))
		var stock int
		switch {
		case i < s.Stocks: // every stock opens the first minute
			stock = i
		case i >= n-s.Stocks: // and closes the last one
			stock = i - (n - s.Stocks)
		default:
			stock = r.IntN(s.Stocks)
			for tries := 0; gap[stock][int(at)/60]; tries++ {
				if tries == s.Stocks {
					stock = -1
					break
				}
				stock = (stock + 1) % s.Stocks
			}
		}
		if stock < 0 {
			continue
		}
		step := price[stock] * int64(r.IntN(61)-30) / 1000 // up to ±3 %
		price[stock] = max(1, price[stock]+step)
		line = line[:0]
		if !day.IsZero() {
			line = append(day.AppendTo(line), ',')
		}
		var six [6]byte
		digits := at.AppendDigits(six[:0])
		if digits[0] == '0' {
			digits = digits[1:] // hmmss, as the original exercise wrote times
		}
		line = append(line, digits...)
		line = append(line, ",stock"...)
		line = strconv.AppendInt(line, int64(stock+1), 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, price[stock], 10)
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return nil
}
