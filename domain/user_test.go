package domain_test

import (
	"errors"
	"strings"
	"testing"

	"stockd/domain"
)

func TestValidateUserName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ok   bool
	}{
		{"user1", true},
		{"U", true},
		{"7", true},
		{"ada.lovelace@example.org", true},
		{"a_b-c.d@e", true},
		{strings.Repeat("x", 64), true},
		{"", false},
		{strings.Repeat("x", 65), false},
		{"_user", false},
		{".user", false},
		{"@user", false},
		{"-user", false},
		{"stockd:idempotency:phantom1", false}, // a service key
		{"a{b}", false},                        // a hash tag
		{"user 1", false},
		{"usér", false},
		{"user\x00", false},
		{"user/1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := domain.ValidateUserName(tt.name)
			if tt.ok && err != nil {
				t.Fatalf("ValidateUserName(%q) = %v, want nil", tt.name, err)
			}
			if !tt.ok && !errors.Is(err, domain.ErrBadUser) {
				t.Fatalf("ValidateUserName(%q) = %v, want ErrBadUser", tt.name, err)
			}
		})
	}
}
