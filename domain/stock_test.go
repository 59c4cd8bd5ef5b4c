package domain_test

import (
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
