package app

import (
	"context"
	"fmt"

	"stockd/domain"
	"stockd/ports"
)

// SeedUsers writes users' credit, creating the users or overwriting only
// their credit.
type SeedUsers struct {
	credits ports.CreditSetter
}

// NewSeedUsers wires the use case.
func NewSeedUsers(credits ports.CreditSetter) (*SeedUsers, error) {
	if err := requireAll(map[string]any{"credit store": credits}); err != nil {
		return nil, err
	}
	return &SeedUsers{credits: credits}, nil
}

// Execute writes every user.
func (s *SeedUsers) Execute(ctx context.Context, users []domain.UserCredit) error {
	for _, u := range users {
		if err := s.credits.SetCredit(ctx, u.User, u.Credit); err != nil {
			return fmt.Errorf("seed %s: %w", u.User, err)
		}
	}
	return nil
}
