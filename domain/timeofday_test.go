package domain_test

import (
	"errors"
	"testing"

	"stockd/domain"
)

func TestParseTimeOfDay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"90006", "090006", false},
		{"090006", "090006", false},
		{"09:00:06", "090006", false},
		{"235959", "235959", false},
		{"000000", "000000", false},
		{"95947", "095947", false},
		{"240000", "", true},
		{"096000", "", true},
		{"090060", "", true},
		{"9:00:06", "", true},
		{"", "", true},
		{"9006", "", true},
		{"0900060", "", true},
		{"09-00-06", "", true},
		{"9000a", "", true},
		{" 90006", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := domain.ParseTimeOfDay(tt.in)
			if tt.err {
				if !errors.Is(err, domain.ErrBadTime) {
					t.Fatalf("ParseTimeOfDay(%q) error = %v, want ErrBadTime", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTimeOfDay(%q): %v", tt.in, err)
			}
			if got.String() != tt.want {
				t.Fatalf("ParseTimeOfDay(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestTimeOfDayRoundTrip(t *testing.T) {
	t.Parallel()
	for s := domain.TimeOfDay(0); s < domain.SecondsPerDay; s++ {
		back, err := domain.ParseTimeOfDay(s.String())
		if err != nil || back != s {
			t.Fatalf("%d -> %q -> %d, %v", s, s.String(), back, err)
		}
	}
}

func TestStocksCanonical(t *testing.T) {
	t.Parallel()
	s, err := domain.NewStocks([]string{"stock1", "Stock2"})
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{"stock1": "stock1", "STOCK1": "stock1", "stock2": "stock2", " Stock2 ": "stock2"} {
		got, err := s.Canonical(in)
		if err != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := s.Canonical("stock3"); !errors.Is(err, domain.ErrUnknownStock) {
		t.Errorf("Canonical(stock3) error = %v, want ErrUnknownStock", err)
	}
	for _, bad := range [][]string{nil, {""}, {"a", "A"}, {"a b"}} {
		if _, err := domain.NewStocks(bad); err == nil {
			t.Errorf("NewStocks(%q) accepted", bad)
		}
	}
}
