package app

import (
	"context"
	"fmt"

	"stockd/domain"
	"stockd/ports"
)

// User is what GetUser tells of a user.
type User struct {
	Name   string
	Credit int64
}

// GetUser reads a user's credit.
type GetUser struct {
	stocks  domain.Stocks
	credits ports.CreditReader
}

// NewGetUser wires the use case; stocks are the names that are never user
// names.
func NewGetUser(stocks domain.Stocks, credits ports.CreditReader) (*GetUser, error) {
	if err := requireAll(map[string]any{"credit reader": credits}); err != nil {
		return nil, err
	}
	return &GetUser{stocks: stocks, credits: credits}, nil
}

// Execute returns the user and its credit; ports.ErrUserNotFound for a
// name that is not a user's, including one that cannot be (not a valid
// user name, or a stock's name), so that the store is not asked about it.
func (g *GetUser) Execute(ctx context.Context, name string) (User, error) {
	if domain.ValidateUserName(name) != nil {
		return User{}, ports.ErrUserNotFound
	}
	if _, err := g.stocks.Canonical(name); err == nil {
		return User{}, ports.ErrUserNotFound
	}
	credit, err := g.credits.Credit(ctx, name)
	if err != nil {
		return User{}, fmt.Errorf("read credit: %w", err)
	}
	return User{Name: name, Credit: credit}, nil
}
