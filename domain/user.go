package domain

import "fmt"

// MaxUserNameLen bounds a user name, so that a name is a short key and an
// error that repeats it stays short too.
const MaxUserNameLen = 64

// ValidateUserName checks the contract's user names: 1 to MaxUserNameLen
// characters of A-Z a-z 0-9 _ . @ -, starting with a letter or digit. The
// alphabet leaves out ':' and braces, so that no user name can address a
// key of the service (stockd:...) or a Redis Cluster hash tag.
func ValidateUserName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrBadUser)
	}
	if len(name) > MaxUserNameLen {
		return fmt.Errorf("%w: longer than %d characters", ErrBadUser, MaxUserNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		switch {
		case alnum:
		case i == 0:
			return fmt.Errorf("%w: must start with a letter or digit", ErrBadUser)
		case c == '_' || c == '.' || c == '@' || c == '-':
		default:
			return fmt.Errorf("%w: character %d is not one of A-Z a-z 0-9 _ . @ -", ErrBadUser, i+1)
		}
	}
	return nil
}

// UserCredit is a user and the credit to give it: a line of SEED_USERS,
// read by the configuration and written by seeding.
type UserCredit struct {
	User   string
	Credit int64
}
