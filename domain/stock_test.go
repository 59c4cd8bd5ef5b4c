package domain_test

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"stockd/domain"
)

// TestStockNamesFollowTheRequestRule: STOCKS takes only names a request
// can name and a page can show (issue 16 item 9).
func TestStockNamesFollowTheRequestRule(t *testing.T) {
	t.Parallel()
	for _, good := range []string{"stock1", "Stock1", "a", "9lives", "brk.b", "rds-a", "x_y", strings.Repeat("s", domain.MaxStockNameLen)} {
		if _, err := domain.NewStocks([]string{good}); err != nil {
			t.Errorf("NewStocks(%q) = %v, want accepted", good, err)
		}
	}
	for _, bad := range []string{"a/b", "<img src=x>", "-a", ".a", "_a", "a b", "a:b", "{a}", "stöck", "a%2fb", strings.Repeat("s", domain.MaxStockNameLen+1), ""} {
		if _, err := domain.NewStocks([]string{bad}); err == nil {
			t.Errorf("NewStocks(%q) accepted", bad)
		}
	}
}

// naivePage is Page as a pass over every name: what the binary searches
// must agree with.
func naivePage(names []string, q domain.StockQuery) ([]string, bool) {
	sorted := slices.Sorted(slices.Values(names))
	var out []string
	for _, n := range sorted {
		if !strings.HasPrefix(n, q.Prefix) || n <= q.After {
			continue
		}
		if len(out) == max(q.Limit, 1) {
			return out, true
		}
		out = append(out, n)
	}
	return out, false
}

func TestStockPagesAgreeWithAPassOverEveryName(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(25, 1))
	const alphabet = "ab1._"
	word := func(n int) string {
		b := []byte{"ab1"[rng.IntN(3)]}
		for range n {
			b = append(b, alphabet[rng.IntN(len(alphabet))])
		}
		return string(b)
	}
	for range 300 {
		set := map[string]bool{}
		for range 1 + rng.IntN(60) {
			set[word(rng.IntN(4))] = true
		}
		names := slices.Collect(maps.Keys(set))
		s, err := domain.NewStocks(names)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			q := domain.StockQuery{Limit: rng.IntN(8)}
			if rng.IntN(2) == 0 {
				q.Prefix = word(1)[:1+rng.IntN(2)]
			}
			if rng.IntN(2) == 0 {
				q.After = word(rng.IntN(4))
			}
			got, more := s.Page(q)
			want, wantMore := naivePage(names, q)
			if !slices.Equal(got, want) || more != wantMore {
				t.Fatalf("names %v, %+v: Page = %v, %v; want %v, %v", names, q, got, more, want, wantMore)
			}
		}
	}
}

func TestStockPagesWalkEveryNameOnce(t *testing.T) {
	t.Parallel()
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("s%04d", (i*7919)%1000) // configured out of order
	}
	s, err := domain.NewStocks(names)
	if err != nil {
		t.Fatal(err)
	}
	var walked []string
	q := domain.StockQuery{Prefix: "s0", Limit: 33}
	for {
		page, more := s.Page(q)
		walked = append(walked, page...)
		if !more {
			break
		}
		q.After = page[len(page)-1]
	}
	if len(walked) != 1000 || !slices.IsSorted(walked) || len(slices.Compact(slices.Clone(walked))) != 1000 {
		t.Fatalf("walked %d names (sorted: %v), want each of 1000 once", len(walked), slices.IsSorted(walked))
	}
	if got := s.Names(); got[1] != names[1] {
		t.Errorf("Names()[1] = %q, want the configured %q", got[1], names[1])
	}
}

func TestStocksSelect(t *testing.T) {
	t.Parallel()
	s, err := domain.NewStocks([]string{"stock1", "stock2", "stock3"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Select([]string{"Stock3", "stock1", "stock3"})
	if err != nil || !slices.Equal(got, []string{"stock3", "stock1"}) {
		t.Errorf("Select = %v, %v; want [stock3 stock1] (a repeat once, where it first stands)", got, err)
	}
	if _, err := s.Select([]string{"stock1", "nope"}); !errors.Is(err, domain.ErrUnknownStock) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Select with an unknown name = %v, want ErrUnknownStock naming it", err)
	}
	if _, err := domain.NewStocks([]string{"b", "a", "B"}); err == nil || !strings.Contains(err.Error(), `"b" is listed twice`) {
		t.Errorf("NewStocks with a repeat = %v, want it named", err)
	}
}

func TestStockPrefixRule(t *testing.T) {
	t.Parallel()
	for _, good := range []string{"", "s", "stock", "st.", "a_-", strings.Repeat("a", domain.MaxStockNameLen)} {
		if err := domain.ValidateStockPrefix(good); err != nil {
			t.Errorf("ValidateStockPrefix(%q) = %v, want accepted", good, err)
		}
	}
	for _, bad := range []string{".", "_a", "a b", "a/", "A", strings.Repeat("a", domain.MaxStockNameLen+1)} {
		if err := domain.ValidateStockPrefix(bad); err == nil {
			t.Errorf("ValidateStockPrefix(%q) accepted", bad)
		}
	}
}
