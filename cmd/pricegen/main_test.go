package main

import (
	"bytes"
	"os"
	"testing"

	"stockd/adapters/csv"
	"stockd/domain"
)

func TestDefaultFileShape(t *testing.T) {
	t.Parallel()
	var a, b bytes.Buffer
	spec := Spec{Stocks: 3, Ticks: 510, Start: 9 * 3600, End: 9*3600 + 59*60 + 47, Gaps: 3, Seed: 1}
	if err := Generate(&a, spec); err != nil {
		t.Fatal(err)
	}
	if err := Generate(&b, spec); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same spec gave two files")
	}
	stocks, _ := domain.NewStocks([]string{"stock1", "stock2", "stock3"})
	day, _ := domain.ParseDay("2026-03-02")
	batch, err := csv.Read(&a, "gen.csv", stocks, csv.Calendar{Default: day})
	if err != nil {
		t.Fatal(err)
	}
	if batch.Ticks() < 500 || len(batch.Histories()) != 3 {
		t.Fatalf("%d ticks, %d stocks", batch.Ticks(), len(batch.Histories()))
	}
	for stock, days := range batch.Histories() {
		if len(days) != 1 || days[day] == nil {
			t.Fatalf("%s on days %v, want %s only", stock, days.Days(), day)
		}
		s := days[day].Series()
		if s.Len() != 60 || s.Minutes()[0].String() != "090000" || s.Minutes()[59].String() != "095900" {
			t.Errorf("%s: %d minutes from %v", stock, s.Len(), s.Minutes()[0])
		}
		gaps := 0
		for _, at := range s.CloseTimes() {
			if at == domain.NoTick {
				gaps++
			}
		}
		if gaps < 3 {
			t.Errorf("%s has %d minutes without a tick, want at least 3", stock, gaps)
		}
	}
}

// TestDatedFileSpreadsOverDays: with a first day, a Date column and the
// ticks of every stock on each of the days, whatever the reader's default.
func TestDatedFileSpreadsOverDays(t *testing.T) {
	t.Parallel()
	first, _ := domain.ParseDay("2026-02-27")
	var out bytes.Buffer
	spec := Spec{Stocks: 3, Ticks: 900, Start: 9 * 3600, End: 9*3600 + 59*60 + 47, Seed: 2, First: first, Days: 3}
	if err := Generate(&out, spec); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out.Bytes(), []byte("Date,Time,Stock,Price\n2026-02-27,")) {
		t.Fatalf("file starts %q", out.Bytes()[:40])
	}
	stocks, _ := domain.NewStocks([]string{"stock1", "stock2", "stock3"})
	other, _ := domain.ParseDay("2026-03-10")
	batch, err := csv.Read(&out, "gen.csv", stocks, csv.Calendar{Default: other})
	if err != nil {
		t.Fatal(err)
	}
	if batch.Ticks() != 900 {
		t.Fatalf("%d ticks", batch.Ticks())
	}
	for stock, days := range batch.Histories() {
		got := days.Days()
		if len(got) != 3 || got[0] != first || got[2] != first.AddDays(2) {
			t.Fatalf("%s on days %v", stock, got)
		}
		for _, h := range days {
			if s := h.Series(); s.Len() != 60 {
				t.Errorf("%s: %d minutes", stock, s.Len())
			}
		}
	}
	if err := Generate(&out, Spec{Stocks: 3, Ticks: 900, Start: 0, End: 10, Days: 2}); err == nil {
		t.Fatal("several days without a first day")
	}
}

// TestShippedFileIsGenerated keeps the project's price_data.csv what the
// generator's defaults make, so that the file and its maker cannot drift.
func TestShippedFileIsGenerated(t *testing.T) {
	t.Parallel()
	shipped, err := os.ReadFile("../../price_data.csv")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"-o", "-"}, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shipped, out.Bytes()) {
		t.Fatal("price_data.csv differs from `go run ./cmd/pricegen`: regenerate it with make price-data")
	}
}
