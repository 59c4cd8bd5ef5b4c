package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/ports"
)

// TokenStore runs the contract of ports.TokenStore.
func TokenStore(t *testing.T, newStore func(t *testing.T) ports.TokenStore) {
	t.Run("save and look up", func(t *testing.T) {
		s := newStore(t)
		hash := uniqueKey("hash")
		_, err := s.TokenUser(t.Context(), hash)
		require.ErrorIs(t, err, ports.ErrUnknownToken)
		require.NoError(t, s.SaveToken(t.Context(), hash, "user1"))
		user, err := s.TokenUser(t.Context(), hash)
		require.NoError(t, err)
		assert.Equal(t, "user1", user)
	})
}
