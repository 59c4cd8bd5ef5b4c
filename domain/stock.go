package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnknownStock reports a stock name that is not one the service trades.
var ErrUnknownStock = errors.New("unknown stock")

// Stocks is the set of stock names the service accepts. Names are compared
// case-insensitively and stored in lower case ("Stock1" is "stock1").
type Stocks struct {
	names map[string]struct{}
	order []string
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
	s := Stocks{names: make(map[string]struct{}, len(names))}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if err := ValidateStockName(n); err != nil {
			return Stocks{}, err
		}
		if _, dup := s.names[n]; dup {
			return Stocks{}, fmt.Errorf("stock %q is listed twice", n)
		}
		s.names[n] = struct{}{}
		s.order = append(s.order, n)
	}
	if len(s.order) == 0 {
		return Stocks{}, errors.New("no stock names")
	}
	return s, nil
}

// Canonical returns the stored form of name, or ErrUnknownStock.
func (s Stocks) Canonical(name string) (string, error) {
	if _, ok := s.names[name]; ok {
		return name, nil // the common case: already lower case, no allocation
	}
	lower := strings.ToLower(strings.TrimSpace(name))
	if _, ok := s.names[lower]; ok {
		return lower, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownStock, name)
}

// Names lists the stocks in the order they were configured.
func (s Stocks) Names() []string { return slices.Clone(s.order) }
