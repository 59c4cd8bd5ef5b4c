package domain

import "fmt"

// Side says whether an order buys shares or sells them. It is a closed
// set: ParseSide reads a stored one.
type Side string

// The two sides of an order. The names say "side" first because Buy and
// Sell are the requests themselves.
const (
	SideBuy  Side = "buy"
	SideSell Side = "sell"
)

// ParseSide reads a stored side.
func ParseSide(s string) (Side, error) {
	switch Side(s) {
	case SideBuy, SideSell:
		return Side(s), nil
	}
	return "", fmt.Errorf("unknown order side %q", s)
}
