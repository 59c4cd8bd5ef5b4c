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

// NewStocks validates and normalises a list of stock names.
func NewStocks(names []string) (Stocks, error) {
	s := Stocks{names: make(map[string]struct{}, len(names))}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			return Stocks{}, errors.New("a stock name is empty")
		}
		if strings.ContainsAny(n, " \t\r\n,") {
			return Stocks{}, fmt.Errorf("stock name %q has a space or a comma", n)
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
