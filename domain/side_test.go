package domain_test

import (
	"testing"

	"stockd/domain"
)

func TestParseSide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want domain.Side
		ok   bool
	}{
		{"buy", domain.SideBuy, true},
		{"sell", domain.SideSell, true},
		{"", "", false},
		{"Buy", "", false},
		{"sale", "", false},
		{"sell ", "", false},
	}
	for _, tt := range tests {
		got, err := domain.ParseSide(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseSide(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestOrdersAreBuysUnlessTheySayOtherwise: an order built the way every
// store built one before sales existed is a buy, and WithSide changes the
// side and nothing else.
func TestOrdersAreBuysUnlessTheySayOtherwise(t *testing.T) {
	t.Parallel()
	o, err := domain.OrderFromStore(7, "k", "user1", "stock1", domain.Accepted, 1054, 100, t0)
	if err != nil {
		t.Fatal(err)
	}
	if o.Side() != domain.SideBuy {
		t.Fatalf("stored order side = %q, want buy", o.Side())
	}
	sold, err := o.WithSide(domain.SideSell)
	if err != nil {
		t.Fatal(err)
	}
	if sold.Side() != domain.SideSell || o.Side() != domain.SideBuy {
		t.Fatalf("WithSide: got %q, receiver now %q", sold.Side(), o.Side())
	}
	back, err := sold.WithSide(domain.SideBuy)
	if err != nil || back != o {
		t.Fatalf("a sale made a buy again = %+v, %v; want %+v", back, err, o)
	}
	if _, err := o.WithSide("short"); err == nil {
		t.Fatal("WithSide took an unknown side")
	}
	j, err := domain.NewBuy("user1", "stock1", 1)
	if err != nil {
		t.Fatal(err)
	}
	bo, err := j.AtPrice("k", 5, t0)
	if err != nil {
		t.Fatal(err)
	}
	if s := bo.Judged(domain.Denied).Side(); s != domain.SideBuy {
		t.Fatalf("a judged buy has side %q", s)
	}
}
