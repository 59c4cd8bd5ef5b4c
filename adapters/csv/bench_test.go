package csv_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"stockd/adapters/csv"
	"stockd/domain"
)

// writeDays writes ticks rows of Date,Time,Stock,Price over days days of
// stocks stocks, each day's rows in time order, as a feed writes them.
func writeDays(b *testing.B, path string, ticks, days, stocks int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("Date,Time,Stock,Price\n")
	perDay := ticks / days
	var line []byte
	for d := range days {
		day := day0.AddDays(d)
		for i := range perDay {
			at := domain.TimeOfDay(9*3600 + i*(8*3600)/perDay) // 09:00 to 17:00
			line = day.AppendTo(line[:0])
			line = append(line, ',')
			line = at.AppendDigits(line)
			line = append(line, ",stock"...)
			line = strconv.AppendInt(line, int64(1+i%stocks), 10)
			line = append(line, ',')
			line = strconv.AppendInt(line, int64(100+(i*7919)%3000), 10)
			line = append(line, '\n')
			w.Write(line)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReadDays reads a file of many days of 50 stocks into one batch:
// ticks/s, and the process's peak RSS, which must not grow with the
// number of ticks (run each size in its own process to compare:
// -bench 'ReadDays/1M' and -bench 'ReadDays/10M').
func BenchmarkReadDays(b *testing.B) {
	names := make([]string, 50)
	for i := range names {
		names[i] = "stock" + strconv.Itoa(i+1)
	}
	s, err := domain.NewStocks(names)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []struct {
		name  string
		ticks int
	}{{"1M", 1_000_000}, {"10M", 10_000_000}} {
		b.Run(size.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "days.csv")
			writeDays(b, path, size.ticks, 20, len(names))
			info, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(info.Size())
			cpu0 := cpuTime()
			for b.Loop() {
				batch, err := csv.ReadFile(path, s, utc)
				if err != nil {
					b.Fatal(err)
				}
				if batch.Ticks() != size.ticks {
					b.Fatalf("%d ticks", batch.Ticks())
				}
			}
			b.ReportMetric(float64(size.ticks*b.N)/b.Elapsed().Seconds(), "ticks/s")
			// On a shared machine the wall clock says little: ticks per
			// second of this process's CPU time say what the reader costs.
			b.ReportMetric(float64(size.ticks*b.N)/(cpuTime()-cpu0), "ticks/cpu-s")
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
				b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
			}
		})
	}
}

// cpuTime is the user and system CPU time of the process so far, in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
