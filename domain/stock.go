package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnknownStock reports a stock name that is not one the service trades.
var ErrUnknownStock = errors.New("unknown stock")

// UnknownStockError is ErrUnknownStock with the name that is not traded,
// for a caller that names it back (one of many asked for at once).
type UnknownStockError struct{ Name string }

func (e *UnknownStockError) Error() string { return fmt.Sprintf("unknown stock: %q", e.Name) }

// Unwrap makes errors.Is(err, ErrUnknownStock) hold, and lets a caller
// that quotes the name its own way (the CSV reader cuts a 60 KB one) keep
// the sentinel.
func (e *UnknownStockError) Unwrap() error { return ErrUnknownStock }

// Stocks is the set of stock names the service accepts. Names are compared
// case-insensitively and stored in lower case ("Stock1" is "stock1").
//
// A market has thousands of names (up to 100,000), so the set is held in
// name order: whether a name is a stock, a page in name order and the
// stocks of a prefix are each a binary search, never a pass over every
// name. The configured order is kept too, for the listing of everything.
type Stocks struct {
	sorted []string // ascending, no repeats
	order  []string // as configured
}

// MaxStockNameLen bounds a stock name: it is a Redis key, a path segment
// and a label in every answer about the stock.
const MaxStockNameLen = 32

// ValidateStockName checks a configured stock name (already lower case):
// 1 to MaxStockNameLen characters of a-z 0-9 _ . -, starting with a letter
// or digit, so that every configured stock can be served (a '/' could not
// be a path segment) and shown (no markup) and addresses no service key.
func ValidateStockName(name string) error {
	if name == "" {
		return errors.New("a stock name is empty")
	}
	return validateStockChars(name)
}

// ValidateStockPrefix checks the start of a stock name to search by
// (already lower case): what ValidateStockName asks of a name, except that
// it may be empty (every name starts with it). A prefix no name could
// start with is refused rather than answered with nothing, so that a
// client's mistake (a space, a quote) is told.
func ValidateStockPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return validateStockChars(prefix)
}

func validateStockChars(name string) error {
	if len(name) > MaxStockNameLen {
		return fmt.Errorf("stock name %.40q is longer than %d characters", name, MaxStockNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		switch {
		case alnum:
		case i == 0:
			return fmt.Errorf("stock name %q must start with a letter or digit", name)
		case c == '_' || c == '.' || c == '-':
		default:
			return fmt.Errorf("stock name %q: character %d is not one of a-z 0-9 _ . -", name, i+1)
		}
	}
	return nil
}

// NewStocks validates and normalises a list of stock names: each is
// lowercased and must then pass ValidateStockName.
func NewStocks(names []string) (Stocks, error) {
	s := Stocks{order: make([]string, 0, len(names))}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if err := ValidateStockName(n); err != nil {
			return Stocks{}, err
		}
		s.order = append(s.order, n)
	}
	if len(s.order) == 0 {
		return Stocks{}, errors.New("no stock names")
	}
	s.sorted = slices.Clone(s.order)
	slices.Sort(s.sorted)
	for i := 1; i < len(s.sorted); i++ {
		if s.sorted[i] == s.sorted[i-1] {
			return Stocks{}, fmt.Errorf("stock %q is listed twice", s.sorted[i])
		}
	}
	return s, nil
}

// Len is the number of stocks.
func (s Stocks) Len() int { return len(s.sorted) }

// has reports whether name, as stored, is a stock.
func (s Stocks) has(name string) bool {
	_, ok := slices.BinarySearch(s.sorted, name)
	return ok
}

// Canonical returns the stored form of name, or ErrUnknownStock.
func (s Stocks) Canonical(name string) (string, error) {
	if s.has(name) {
		return name, nil // the common case: already lower case, no allocation
	}
	lower := strings.ToLower(strings.TrimSpace(name))
	if s.has(lower) {
		return lower, nil
	}
	return "", &UnknownStockError{Name: name}
}

// Names lists the stocks in the order they were configured.
func (s Stocks) Names() []string { return slices.Clone(s.order) }

// Select returns the stored form of each of names, in the order given, a
// name given twice once (where it first stands); ErrUnknownStock names
// the first that is not a stock.
func (s Stocks) Select(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	seen := make(map[string]struct{}, len(names))
	for _, n := range names {
		c, err := s.Canonical(n)
		if err != nil {
			return nil, err
		}
		if _, dup := seen[c]; dup {
			continue
		}
		seen[c] = struct{}{}
		out = append(out, c)
	}
	return out, nil
}

// StockQuery asks for a page of stocks in name order: those whose name
// starts with Prefix (lower case; empty: every name) and comes after
// After (empty: from the first), at most Limit of them.
type StockQuery struct {
	Prefix string
	After  string
	Limit  int
}

// Page returns the stocks q asks for, in name order, and whether more
// follow them. It costs a binary search and the page, whatever the number
// of stocks. A Limit below 1 is a page of one.
func (s Stocks) Page(q StockQuery) (names []string, more bool) {
	limit := max(q.Limit, 1)
	from, _ := slices.BinarySearch(s.sorted, q.Prefix)
	if q.After >= q.Prefix {
		after, found := slices.BinarySearch(s.sorted, q.After)
		if found {
			after++
		}
		from = max(from, after)
	}
	for i := from; i < len(s.sorted) && strings.HasPrefix(s.sorted[i], q.Prefix); i++ {
		if len(names) == limit {
			return names, true
		}
		names = append(names, s.sorted[i])
	}
	return names, false
}
